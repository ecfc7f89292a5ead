"""How a runner reaches shared state for its try: claim, heartbeat, report the end, and the TaskRuntime task
code uses. Over HTTP to the execution API (``api_channel``, every executor) or, for `dags test` and an
operator's `tasks run` without a task token, in process on the database (``execution.local_channel``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tradewind.execution.models import ClaimedTry, DeferReport, Refusal, RescheduleReport, TryEnded, TryReport
from tradewind.sdk.legacy_context import PreviousSuccess
from tradewind.sdk.runtime import TaskRuntime


class TryChannel(Protocol):
    def claim(self, *, hostname: str, pid: int) -> ClaimedTry | Refusal: ...

    def heartbeat(self) -> str | None:
        """None while the try is still ours; else the state label someone else gave it."""

    def finish(self, report: TryReport) -> TryEnded | str:
        """How the try ended, or (a str) the state someone else gave it first."""

    def reschedule(self, report: RescheduleReport) -> str | None: ...

    def defer(self, report: DeferReport) -> str | None:
        """None when the try is now deferred; else the state someone else gave it first."""

    def previous_success(self, *, logical_date: datetime) -> PreviousSuccess | None: ...

    def runtime(self) -> TaskRuntime: ...

    def close(self) -> None: ...
