"""The runner in a process forked from a pre-imported parent (the LocalExecutor's fork mode)."""

from __future__ import annotations

import os

from tests.integration.runner.harness import DAG_ID, RUN_ID, SQLITE_ONLY, RunnerEnv, wait_for
from tradewind.core.events import TaskEvent
from tradewind.core.states import TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.executors.local import FORK_SERVER_DATABASE_ENV, LocalExecutor

TI = TaskInstanceState


@SQLITE_ONLY
def test_forked_runner_records_outcomes_and_logs(runner_env: RunnerEnv) -> None:
    for task_id in ("bash_echo", "python_fail"):
        runner_env.queue(task_id)
    executor = LocalExecutor(2, settings=runner_env.settings, fork=True, env=runner_env.env)
    executor.start()
    events: list[TaskEvent] = []
    try:
        for task_id in ("bash_echo", "python_fail"):
            executor.queue_workload(
                ExecuteTask(dag_id=DAG_ID, task_id=task_id, run_id=RUN_ID, dag_rel_path="runner_basics.py")
            )

        def finished() -> bool:
            events.extend(e for e in executor.get_events() if e.state != TI.RUNNING)
            return len(events) == 2

        wait_for(finished, timeout=60, what="both forked tries to end")
        # The database URL went to the fork server's environment only, never stayed in ours.
        assert FORK_SERVER_DATABASE_ENV not in os.environ
    finally:
        executor.stop(wait=False)
    outcome = {e.key.ti.task_id: e.state for e in events}
    assert outcome == {"bash_echo": TI.SUCCESS, "python_fail": TI.FAILED}  # exit codes 0 and 1
    assert runner_env.ti("bash_echo").state == "success"
    assert runner_env.ti("python_fail").state == "up_for_retry"
    assert "hello world on 2024-01-01" in runner_env.log("bash_echo")
    assert "ValueError: boom from python_fail" in runner_env.log("python_fail")
