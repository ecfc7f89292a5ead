"""Sensors in reschedule mode through the scheduler: up_for_reschedule waits for its poke time, keeps its try
number, survives a scheduler restart, and its timeout counts from the try's first poke."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import run_state, states, trigger
from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind import DAG
from tradewind.config.settings import Settings
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TryProcessEvent
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.execution.db_runtime import DbRuntime
from tradewind.execution.local_channel import LocalChannel
from tradewind.execution.models import ClaimedTry, RescheduleReport, TryEnded, TryReport
from tradewind.execution.try_state import TryState
from tradewind.runner.execution import execute_task
from tradewind.runner.run_workload import _record
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.context import build_context
from tradewind.sdk.runtime import use_runtime
from tradewind.sdk.sensors.base import BaseSensorOperator
from tradewind.store import task_instances, task_reschedules


class NeverReady(BaseSensorOperator):
    def poke(self, context: Any) -> bool:
        return False


def claim(sessions: sessionmaker[Session], w: ExecuteTask, clock: FrozenClock) -> tuple[TryState, ClaimedTry]:
    state = TryState(sessions, w.ti_key, w.try_number)
    claimed = state.claim(now=clock.now(), hostname="worker-1", pid=4242)
    assert isinstance(claimed, ClaimedTry), claimed
    return state, claimed


def reschedule(sessions: sessionmaker[Session], w: ExecuteTask, clock: FrozenClock, wait: float) -> None:
    state, _claimed = claim(sessions, w, clock)
    report = RescheduleReport(reschedule_date=clock.now() + timedelta(seconds=wait))
    assert state.reschedule(report, now=clock.now()) is None


def ti_row(sessions: sessionmaker[Session], key: TaskInstanceKey) -> Any:
    with sessions() as session:
        return task_instances.get_task_instance(session=session, key=key)


def test_not_dispatched_before_the_poke_time_and_the_try_number_stays(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("sense", {"wait": ["after"]}))
    run_id = trigger(sessions, "sense")
    scheduler.tick(clock.now())
    [w] = executor.take()
    assert w.try_number == 1
    reschedule(sessions, w, clock, wait=7200)
    executor.finish(w.try_key, TryProcessEvent.EXITED_CLEANLY)  # the runner exits 0 after rescheduling
    scheduler.tick(clock.now())
    row = ti_row(sessions, w.ti_key)
    assert (row.state, row.try_number, row.next_poke_at) == (
        TaskInstanceState.UP_FOR_RESCHEDULE,
        1,
        START + timedelta(hours=2),
    )

    clock.advance(timedelta(hours=1))  # long past heartbeat and queued timeouts, before the poke time
    scheduler.tick(clock.now())
    assert executor.take() == []
    assert states(sessions, "sense", run_id)["wait"] == TaskInstanceState.UP_FOR_RESCHEDULE

    clock.advance(timedelta(hours=1, seconds=1))
    scheduler.tick(clock.now())
    [again] = executor.take()
    assert (again.task_id, again.try_number) == ("wait", 1)
    state, _ = claim(sessions, again, clock)
    assert isinstance(state.finish(TryReport(outcome="success"), now=clock.now()), TryEnded)
    scheduler.tick(clock.now())
    [after] = executor.take()
    assert after.task_id == "after" and after.try_number == 1
    with sessions() as session:
        [row_r] = task_reschedules.list_reschedules(session=session, key=w.ti_key)
    assert (row_r.try_number, row_r.reschedule_date) == (1, START + timedelta(hours=2))


def test_a_scheduler_restart_loses_no_rescheduled_sensor(
    sessions: sessionmaker[Session], sched_settings: Settings, clock: FrozenClock
) -> None:
    first = RecordingExecutor()
    store_dag(sessions, make_dag("sense", {"wait": []}))
    run_id = trigger(sessions, "sense")
    Scheduler(settings=sched_settings, session_factory=sessions, executor=first, job_id=None).tick(
        clock.now()
    )
    [w] = first.take()
    reschedule(sessions, w, clock, wait=60)
    second = RecordingExecutor()  # a new scheduler process: nothing in memory survives
    restarted = Scheduler(settings=sched_settings, session_factory=sessions, executor=second, job_id=None)
    clock.advance(timedelta(seconds=30))
    restarted.tick(clock.now())
    assert second.take() == []
    clock.advance(timedelta(seconds=31))
    restarted.tick(clock.now())
    [again] = second.take()
    assert again.try_number == 1
    state, _ = claim(sessions, again, clock)
    state.finish(TryReport(outcome="success"), now=clock.now())
    restarted.tick(clock.now())
    assert run_state(sessions, "sense", run_id) == DagRunState.SUCCESS


@pytest.mark.parametrize(
    ("soft_fail", "ending"), [(False, TaskInstanceState.FAILED), (True, TaskInstanceState.SKIPPED)]
)
def test_timeout_counts_from_the_first_poke_across_reschedules(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock,
    soft_fail: bool, ending: TaskInstanceState,
) -> None:  # fmt: skip
    """The frozen clock sits at START (long before the real now the sensor reads): the try's first poke is
    START, so a sensor whose timeout is shorter than the time since has timed out on its next poke."""
    with DAG("sense", schedule=None, start_date=START) as dag:
        long = NeverReady(task_id="long", mode="reschedule", poke_interval=60, timeout=timedelta(days=3650))
        short = NeverReady(task_id="short", mode="reschedule", poke_interval=60, timeout=3600, retries=3,
                           soft_fail=soft_fail)  # fmt: skip
    store_dag(sessions, make_dag("sense", {"long": [], "short": []}, tasks={"short": {"retries": 3}}))
    run_id = trigger(sessions, "sense")
    scheduler.tick(clock.now())
    workloads = {w.task_id: w for w in executor.take()}
    for w in workloads.values():
        reschedule(sessions, w, clock, wait=60)
    clock.advance(timedelta(seconds=61))
    scheduler.tick(clock.now())
    for w in executor.take():
        assert w.try_number == 1
        op = {"long": long, "short": short}[w.task_id]
        _state, claimed = claim(sessions, w, clock)
        context = dict(build_context(task=op, run_id=run_id, logical_date=START, try_number=w.try_number))
        with use_runtime(DbRuntime(sessions)):
            result = execute_task(op, context, push_xcom=lambda k, v: None, log=logging.getLogger("test"))
        _record(claimed, LocalChannel(sessions, w.ti_key, w.try_number), result, None)
    assert dag.dag_id == "sense"
    final = states(sessions, "sense", run_id)
    assert final["long"] == TaskInstanceState.UP_FOR_RESCHEDULE
    assert final["short"] == ending  # no retry for a sensor timeout, though retries=3
    with sessions() as session:
        key = TaskInstanceKey("sense", run_id, "long")
        assert len(task_reschedules.list_reschedules(session=session, key=key)) == 2
