"""The trigger child's loop, in process: each trigger reports its first event or its failure once, a
cancelled one is cleaned up, and a trigger that blocks the loop is named with how long it blocked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent
from tradewind.triggerer.trigger_runner import TriggerRunner, Watchdog, build_trigger

CLEANED: list[str] = []


class Sleepy(BaseTrigger):
    """Blocks the loop with time.sleep (what a trigger must never do), then fires."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.Sleepy", {"seconds": self.seconds}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        await asyncio.sleep(0.1)
        time.sleep(self.seconds)
        yield TriggerEvent("woke")


class Forever(BaseTrigger):
    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.Forever", {}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        await asyncio.sleep(3600)
        yield TriggerEvent(None)

    async def cleanup(self) -> None:
        CLEANED.append("forever")


class Quiet(BaseTrigger):
    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.Quiet", {}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        return
        yield TriggerEvent(None)


class Unstorable(BaseTrigger):
    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.Unstorable", {}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(object())


def _run(messages: list[dict[str, Any]], *, settle: float, threshold: float = 0.2) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        runner = TriggerRunner(sent.append)
        watchdog = Watchdog(asyncio.get_running_loop(), sent.append, threshold)
        beat = asyncio.create_task(watchdog.beat())
        watchdog.start()
        for message in messages:
            runner.handle(message)
        await asyncio.sleep(settle)
        for trigger_id in list(runner.tasks):
            runner.handle({"op": "cancel", "id": trigger_id})
        await asyncio.sleep(0.1)
        watchdog.stop()
        beat.cancel()

    asyncio.run(main())
    return sent


def test_each_trigger_reports_once_and_cancelled_ones_are_cleaned_up() -> None:
    moment = datetime.now(UTC) + timedelta(seconds=0.2)
    sent = _run(
        [
            {"op": "run", "id": 1, "classpath": "tradewind.sdk.triggers.temporal.DateTimeTrigger",
             "kwargs": {"moment": {"__tradewind_type__": "datetime", "value": moment.isoformat()}}},
            {"op": "run", "id": 2, "classpath": f"{__name__}.Forever", "kwargs": {}},
            {"op": "run", "id": 3, "classpath": f"{__name__}.Quiet", "kwargs": {}},
            {"op": "run", "id": 4, "classpath": "no.such.Module", "kwargs": {}},
            {"op": "run", "id": 5, "classpath": f"{__name__}.Unstorable", "kwargs": {}},
        ],
        settle=0.6,
    )  # fmt: skip
    by_id = {m["id"]: m for m in sent if "id" in m}
    assert by_id[1] == {
        "op": "event", "id": 1, "payload": {"__tradewind_type__": "datetime", "value": moment.isoformat()}
    }  # fmt: skip
    assert 2 not in by_id and CLEANED == ["forever"]
    assert by_id[3]["op"] == "failed" and "without sending an event" in "".join(by_id[3]["traceback"])
    assert by_id[4]["op"] == "failed" and "ModuleNotFoundError" in "".join(by_id[4]["traceback"])
    assert by_id[5]["op"] == "failed" and "cannot be stored" in "".join(by_id[5]["traceback"])
    assert len([m for m in sent if "id" in m]) == 4


def test_a_trigger_blocking_the_loop_is_named() -> None:
    sent = _run(
        [{"op": "run", "id": 9, "classpath": f"{__name__}.Sleepy", "kwargs": {"seconds": 0.6}}], settle=1.0
    )
    blocked = [m for m in sent if m["op"] == "blocked"]
    assert blocked, sent
    assert all(m["name"] == f"trigger 9 ({__name__}.Sleepy)" for m in blocked)
    assert blocked[-1]["ongoing"] is False and 400 <= blocked[-1]["ms"] <= 1500
    assert {"op": "event", "id": 9, "payload": "woke"} in sent


def test_build_trigger_refuses_what_is_not_a_trigger() -> None:
    try:
        build_trigger("datetime.timedelta", {})
    except TypeError as exc:
        assert "not a BaseTrigger" in str(exc)
    else:
        raise AssertionError("built a timedelta")
