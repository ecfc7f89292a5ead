"""EmptyOperator: a task that does nothing (the scheduler settles it without starting a process)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradewind.sdk.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    ui_color = "#e8f7e4"

    def execute(self, context: Mapping[str, Any]) -> None:
        return None
