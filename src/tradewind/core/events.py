"""TaskEvent: what an executor reports about the compute carrying a task try, and the kinds it can report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tradewind.core.keys import TaskTryKey


class TryProcessEvent(StrEnum):
    """What an executor saw happen to a try's compute (its process, pod or Celery task).

    Not a task instance's state: the runner records the try's outcome (success, failed, up for retry,
    deferred ...) itself, and the scheduler alone decides the task instance's state from one of these events
    and the row (``scheduler.event_handling``). The values are distinct from every ``TaskInstanceState``
    value so the two can never compare equal.

    - ``STARTED``: compute picked the try up (process spawned, pod running, Celery task started).
    - ``EXITED_CLEANLY``: compute ended without error (exit code 0, pod Succeeded, Celery result 0). It says
      nothing of the task's outcome: a runner also exits 0 after recording a failure, after deferring, or
      when it was refused the try.
    - ``FAILED``: compute ended with an error, or could not start (killed, non-zero exit, OOMKilled,
      ImagePullBackOff, the broker refused the message ...); ``TaskEvent.reason`` says why.
    """

    STARTED = "process_started"
    EXITED_CLEANLY = "process_exited_cleanly"
    FAILED = "process_failed"


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """An executor's observation of a try's compute.

    The runner writes the task's own outcome to the database itself; the scheduler uses these events to
    react at once and to catch tries whose runner died without saying so.
    ``reason`` carries why compute failed (exit code, OOMKilled, ImagePullBackOff ...).
    ``never_started`` says compute failed before the runner could start user code (the try may be
    re-queued without using a retry).
    """

    key: TaskTryKey
    kind: TryProcessEvent
    reason: str | None = None
    external_id: str | None = None
    never_started: bool = False

    @property
    def ended(self) -> bool:
        """The compute is over (cleanly or not): the executor no longer carries the try."""
        return self.kind is not TryProcessEvent.STARTED
