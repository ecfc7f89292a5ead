"""The Executor interface: move ExecuteTask workloads to compute and report TaskEvents. No database."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from tradewind.core.events import TaskEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.observability.metrics import NO_METRICS, Metrics


@dataclass(frozen=True, slots=True)
class AdoptionCandidate:
    """A try the database says is queued or running on this kind of executor, possibly by a dead scheduler."""

    workload: ExecuteTask
    external_executor_id: str | None


class Executor(ABC):
    """Moves workloads to compute.

    Life-cycle: ``start()``, then any number of ``queue_workload()`` / ``terminate()`` calls, events drained
    with ``get_events()``, then ``stop()``. ``wake`` (set by the scheduler) is called from any thread when an
    event is ready, so the scheduler reacts at once instead of waiting for its next loop.
    """

    name: str = "base"

    def __init__(self, parallelism: int) -> None:
        self.parallelism = parallelism
        self.wake: Callable[[], None] = lambda: None
        #: The scheduler job carrying this executor (set before ``start()``): owner of what it launches.
        self.scheduler_job_id: int | None = None
        #: Where the executor records what only it sees (pods, Celery queues); set by the scheduler.
        self.metrics: Metrics = NO_METRICS
        self._events: list[TaskEvent] = []
        self._events_lock = threading.Lock()

    # -- life-cycle ---------------------------------------------------------------------------------
    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self, *, wait: bool = True) -> None:
        """Stop accepting work. ``wait`` lets running tries finish; otherwise they are left to adoption."""

    # -- work ---------------------------------------------------------------------------------------
    @abstractmethod
    def queue_workload(self, workload: ExecuteTask) -> str | None:
        """Hand a try to compute. Returns the external id (pod name, Celery id, pid) when known."""

    @abstractmethod
    def terminate(self, key: TaskTryKey) -> None:
        """Stop a try's compute (clear, mark failed, timeout). Unknown keys are ignored."""

    @abstractmethod
    def running_keys(self) -> set[TaskTryKey]:
        """Tries this executor currently carries."""

    def open_slots(self) -> int:
        return max(0, self.parallelism - len(self.running_keys()))

    def release(self, keys: Collection[TaskTryKey]) -> None:  # noqa: B027 - optional hook with a no-op default
        """Stop carrying ``keys``: tries the database says are over (ended, up for retry, deferred, or
        moved to a later try) whose compute may never report their end, such as a Celery task whose worker
        was SIGKILLed. Unknown keys are ignored. The default does nothing: executors whose running keys are
        live processes or pods drop them when those end."""

    def adopt(self, candidates: Sequence[AdoptionCandidate]) -> list[ExecuteTask]:
        """Take over tries queued or running under an earlier scheduler. Returns those it could NOT adopt
        (the scheduler resets them). The default adopts nothing."""
        return [c.workload for c in candidates]

    def sync(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Periodic work (reconciliation, health checks). Called once per scheduler iteration."""

    # -- events -------------------------------------------------------------------------------------
    def _emit(self, event: TaskEvent) -> None:
        with self._events_lock:
            self._events.append(event)
        self.wake()

    def get_events(self) -> list[TaskEvent]:
        with self._events_lock:
            events, self._events = self._events, []
        return events
