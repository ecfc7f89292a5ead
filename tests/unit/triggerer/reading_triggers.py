"""Triggers for the tests of reads through the triggerer (importable by the trigger child)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tradewind.sdk.runtime import get_runtime
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent


class ReadsVariable(BaseTrigger):
    """Fires with the value of a Variable, read through the triggerer (the child has no database)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.ReadsVariable", {"key": self.key}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        value = await asyncio.to_thread(get_runtime().get_variable, self.key)
        yield TriggerEvent({"value": value})


class WritesVariable(BaseTrigger):
    """Tries a write: triggers only read."""

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.WritesVariable", {}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        await asyncio.to_thread(get_runtime().set_variable, "k", "v")
        yield TriggerEvent(None)
