"""InlineExecutor: runs each try inside the calling process, one at a time (for `dags test` and tests)."""

from __future__ import annotations

from collections.abc import Callable

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.base import Executor

#: Runs one try and returns the runner's exit code.
RunTry = Callable[[ExecuteTask], int]


class InlineExecutor(Executor):
    """Runs a queued try at once, in this process, through ``run_try`` (the runner). Debuggers and
    breakpoints work in task code; nothing runs in parallel."""

    name = "inline"

    def __init__(self, run_try: RunTry) -> None:
        super().__init__(parallelism=1)
        self._run_try = run_try

    def start(self) -> None:
        pass

    def stop(self, *, wait: bool = True) -> None:
        pass

    def queue_workload(self, workload: ExecuteTask) -> str | None:
        self._emit(TaskEvent(workload.try_key, TryProcessEvent.STARTED))
        code = self._run_try(workload)
        if code == 0:
            self._emit(TaskEvent(workload.try_key, TryProcessEvent.EXITED_CLEANLY))
        else:
            self._emit(TaskEvent(workload.try_key, TryProcessEvent.FAILED, reason=f"exit code {code}"))
        return None

    def terminate(self, key: TaskTryKey) -> None:
        pass

    def running_keys(self) -> set[TaskTryKey]:
        return set()
