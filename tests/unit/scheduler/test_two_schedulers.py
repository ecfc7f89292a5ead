"""Two schedulers on one PostgreSQL database never queue the same task instance twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind.config.settings import Settings
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.scheduler.tick import Scheduler
from tradewind.store import dag_runs, task_instances
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_schedulers_share_the_work_without_duplicates(
    sessions: sessionmaker[Session], sched_settings: Settings
) -> None:
    edges = {f"root{i}": [f"leaf{i}"] for i in range(20)}
    store_dag(sessions, make_dag("wide", edges))
    with transaction(sessions) as session:
        run_ids = [trigger_run(session=session, dag_id="wide", now=START, run_id=f"r{i}").run_id for i in range(5)]

    executors = [RecordingExecutor(parallelism=1000), RecordingExecutor(parallelism=1000)]
    schedulers = [Scheduler(settings=sched_settings, session_factory=sessions, executor=e, job_id=i)
                  for i, e in enumerate(executors)]
    dispatched: list[ExecuteTask] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(scheduler: Scheduler, executor: RecordingExecutor) -> None:
        try:
            for _ in range(60):
                scheduler.tick(START)
                taken = executor.take()
                with lock:
                    dispatched.extend(taken)
                for w in taken:  # behave as the runner: take the try and succeed
                    with transaction(sessions) as session:
                        assert task_instances.transition(
                            session=session,
                            key=w.ti_key,
                            expected=TaskInstanceState.QUEUED,
                            target=TaskInstanceState.RUNNING,
                            try_number=w.try_number,
                        )
                    with transaction(sessions) as session:
                        task_instances.transition(
                            session=session,
                            key=w.ti_key,
                            expected=TaskInstanceState.RUNNING,
                            target=TaskInstanceState.SUCCESS,
                            try_number=w.try_number,
                        )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, e)) for s, e in zip(schedulers, executors, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = Counter((w.run_id, w.task_id) for w in dispatched)
    assert len(counts) == 5 * 40, "every task instance ran"
    assert max(counts.values()) == 1, f"duplicates: {[k for k, n in counts.items() if n > 1]}"
    with sessions() as session:
        for run_id in run_ids:
            assert dag_runs.get_dag_run(session=session, dag_id="wide", run_id=run_id).state == DagRunState.SUCCESS
