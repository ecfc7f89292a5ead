"""TaskEvent: what an executor reports about a task try it carries."""

from __future__ import annotations

from dataclasses import dataclass

from tradewind.core.keys import TaskTryKey
from tradewind.core.states import TaskInstanceState


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """An executor's observation of a try.

    ``state`` is RUNNING when compute picked the try up, and SUCCESS or FAILED when the compute ended
    (process exit, pod phase). The runner writes the task's own outcome to the database itself; the
    scheduler uses these events to react at once and to catch tries whose runner died without saying so.
    ``reason`` carries why compute failed (exit code, OOMKilled, ImagePullBackOff ...).
    ``never_started`` says compute failed before the runner could start user code (the try may be
    re-queued without using a retry).
    """

    key: TaskTryKey
    state: TaskInstanceState
    reason: str | None = None
    external_id: str | None = None
    never_started: bool = False
