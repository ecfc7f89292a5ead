"""Runs whose every task waits on its try (queued or running): planning passes over them without reading their
instances (issue 17), yet still times them out, picks up tasks added to the DAG, and finishes them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import act_as_runner, run_state, states, trigger
from tests.unit.scheduler.twins import RecordingExecutor, make_dag, store_dag
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TryProcessEvent
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.scheduler.tick import Scheduler


def test_run_of_queued_tries_still_times_out(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("wait_timeout", {"a": [], "b": []}, dagrun_timeout=30.0))
    run_id = trigger(sessions, "wait_timeout")
    scheduler.tick(clock.now())
    queued = executor.take()
    assert len(queued) == 2
    clock.advance(timedelta(seconds=10))
    scheduler.tick(clock.now())  # nothing to decide yet
    assert run_state(sessions, "wait_timeout", run_id) == DagRunState.RUNNING
    clock.advance(timedelta(seconds=21))
    scheduler.tick(clock.now())
    assert sorted(executor.terminated) == sorted(w.try_key for w in queued)
    assert run_state(sessions, "wait_timeout", run_id) == DagRunState.FAILED


def test_task_added_while_every_try_runs_gets_scheduled(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("grows", {"a": []}))
    run_id = trigger(sessions, "grows")
    scheduler.tick(clock.now())
    [a] = executor.take()
    store_dag(sessions, make_dag("grows", {"a": [], "late": []}))
    scheduler.tick(clock.now())
    [late] = executor.take()
    assert late.task_id == "late"
    for w in (a, late):
        act_as_runner(sessions, w, TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    assert run_state(sessions, "grows", run_id) == DagRunState.SUCCESS


def test_wide_mapped_task_runs_every_index_with_its_pool_and_finishes(
    sessions: sessionmaker[Session], clock: FrozenClock, sched_settings: object
) -> None:
    executor = RecordingExecutor(parallelism=64)
    scheduler = Scheduler(
        settings=sched_settings,  # type: ignore[arg-type]
        session_factory=sessions,
        executor=executor,
        monotonic=clock.monotonic,
    )
    store_dag(
        sessions,
        make_dag(
            "wide",
            {"make": ["each"]},
            max_active_tasks=64,
            tasks={
                "each": {
                    "expand": {"x": {"kind": "xcom", "task_id": "make"}},
                    "queue": "wide_q",
                    "priority_weight": 7,
                },
            },
        ),
    )
    run_id = trigger(sessions, "wide")
    scheduler.tick(clock.now())
    [make] = executor.take()
    act_as_runner(sessions, make, TaskInstanceState.SUCCESS, returns=list(range(150)))
    executor.finish(make.try_key, TryProcessEvent.EXITED_CLEANLY)
    seen: list[int] = []
    for _ in range(10):
        scheduler.tick(clock.now())
        batch = executor.take()
        assert len(batch) <= 64
        for w in batch:
            assert (w.queue, w.priority_weight, w.try_number) == ("wide_q", 7, 1)
            act_as_runner(sessions, w, TaskInstanceState.SUCCESS)
            executor.finish(w.try_key, TryProcessEvent.EXITED_CLEANLY)
        seen.extend(w.map_index for w in batch)
        if run_state(sessions, "wide", run_id) != DagRunState.RUNNING:
            break
    assert sorted(seen) == list(range(150))
    assert run_state(sessions, "wide", run_id) == DagRunState.SUCCESS
    assert states(sessions, "wide", run_id)["each[149]"] == TaskInstanceState.SUCCESS
