"""The scheduler across wall-clock steps (NTP stepping the clock minutes forward or back): no running try is
failed as a zombie because of a step, a dead one still is, and scheduled runs are neither skipped nor
created twice. The frozen clock's ``step`` moves the wall clock only, as an NTP step does (ADR 0015)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import states, trigger
from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind.core.clock import FrozenClock
from tradewind.core.states import TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.scheduler.heartbeat_watch import Beat, HeartbeatWatch
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.dag import DAG
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.store import dag_runs, task_instances
from tradewind.store.engine import transaction

MINUTE = timedelta(minutes=1)


def test_the_watch_counts_silence_on_the_monotonic_clock_only() -> None:
    clock = FrozenClock(START)
    watch = HeartbeatWatch(10.0, monotonic=clock.monotonic)
    assert watch.stale([Beat("a", 1), Beat("b", 1)]) == []
    clock.step(timedelta(minutes=30))  # wall clock only: no time passed
    assert watch.stale([Beat("a", 1), Beat("b", 1)]) == []
    clock.advance(timedelta(seconds=9))
    assert watch.stale([Beat("a", 2), Beat("b", 1)]) == []  # a beat from "a"
    clock.advance(timedelta(seconds=1))
    assert watch.stale([Beat("a", 2), Beat("b", 1)]) == [Beat("b", 1)]
    assert watch.stale([Beat("a", 2)]) == []  # "b" ended: forgotten
    assert watch.unchanged_for("b") is None


def _running(sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor,
             clock: FrozenClock) -> tuple[str, ExecuteTask]:  # fmt: skip
    store_dag(sessions, make_dag("z", {"a": []}, tasks={"a": {"retries": 1, "retry_delay": 0.0}}))
    run_id = trigger(sessions, "z")
    scheduler.tick(clock.now())
    [w] = executor.take()
    with transaction(sessions) as session:
        task_instances.transition(
            session=session, key=w.ti_key, expected=TaskInstanceState.QUEUED, target=TaskInstanceState.RUNNING,
            try_number=1, values={"start_date": clock.now(), "last_heartbeat_at": clock.now()},
        )  # fmt: skip
    return run_id, w


def _beat(sessions: sessionmaker[Session], w: ExecuteTask, clock: FrozenClock) -> None:
    with transaction(sessions) as session:
        assert task_instances.heartbeat(session=session, key=w.ti_key, try_number=1, now=clock.now())


@pytest.mark.parametrize("step", [timedelta(minutes=5), -timedelta(minutes=5)], ids=["forward", "back"])
def test_a_step_fails_no_heartbeating_try_and_a_dead_one_is_still_found(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock,
    step: timedelta,
) -> None:  # fmt: skip
    run_id, w = _running(sessions, scheduler, executor, clock)
    threshold = scheduler.settings.scheduler.zombie_threshold
    scheduler.housekeeping(clock.now())
    clock.step(step)  # the heartbeat stored a moment ago now looks five minutes old (or from the future)
    for _ in range(3):  # the runner beats every few seconds across the step
        clock.advance(timedelta(seconds=threshold / 3))
        scheduler.housekeeping(clock.now())
        assert states(sessions, "z", run_id)["a"] == TaskInstanceState.RUNNING
        _beat(sessions, w, clock)
    scheduler.housekeeping(clock.now())
    clock.advance(timedelta(seconds=threshold - 1))  # the runner died after its last beat
    scheduler.housekeeping(clock.now())
    assert states(sessions, "z", run_id)["a"] == TaskInstanceState.RUNNING
    clock.advance(timedelta(seconds=1))
    scheduler.housekeeping(clock.now())
    assert states(sessions, "z", run_id)["a"] == TaskInstanceState.UP_FOR_RETRY


def _store_every_minute(
    sessions: sessionmaker[Session], dag_id: str, schedule: object, catchup: bool
) -> None:
    dag = DAG(dag_id, schedule=schedule, start_date=START, catchup=catchup)  # type: ignore[arg-type]
    with dag:
        EmptyOperator(task_id="noop")
    store_dag(sessions, serialize_dag(dag, fileloc=f"/dags/{dag_id}.py", relative_fileloc=f"{dag_id}.py"))


def _logical_dates(sessions: sessionmaker[Session], dag_id: str) -> list[datetime]:
    with sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id=dag_id, limit=500)
        return sorted(r.logical_date.astimezone(UTC) for r in runs if r.logical_date is not None)


def _tick_until_quiet(
    scheduler: Scheduler, clock: FrozenClock, sessions: sessionmaker[Session], dag_id: str
) -> None:
    seen = -1
    for _ in range(100):
        count = len(_logical_dates(sessions, dag_id))
        if count == seen:
            return
        seen = count
        scheduler.tick(clock.now())
    raise AssertionError("the scheduler kept creating runs")


@pytest.mark.parametrize("schedule", ["* * * * *", MINUTE], ids=["cron", "interval"])
@pytest.mark.parametrize("catchup", [True, False], ids=["catchup", "no-catchup"])
def test_runs_across_steps_are_created_once_each_and_none_skipped(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock, schedule: object, catchup: bool
) -> None:
    _store_every_minute(sessions, "m", schedule, catchup)
    clock.set(START + 10 * MINUTE)
    _tick_until_quiet(scheduler, clock, sessions, "m")
    before = _logical_dates(sessions, "m")
    clock.step(5 * MINUTE)
    _tick_until_quiet(scheduler, clock, sessions, "m")
    after_forward = _logical_dates(sessions, "m")
    assert after_forward[-1] - before[-1] == 5 * MINUTE  # what fell due in the step, up to its latest tick
    clock.step(-8 * MINUTE)
    for _ in range(5):
        clock.advance(MINUTE / 2)
        _tick_until_quiet(scheduler, clock, sessions, "m")
        assert _logical_dates(sessions, "m") == after_forward  # nothing again, nothing older
    clock.advance(7 * MINUTE)  # 16.5 min past the start: the schedule goes on from its latest run
    _tick_until_quiet(scheduler, clock, sessions, "m")
    dates = _logical_dates(sessions, "m")
    assert len(dates) == len(set(dates)), dates
    if catchup:  # every minute from the start, once, up to the latest tick
        assert dates == [dates[0] + i * MINUTE for i in range(len(dates))]
        assert dates[-1] == after_forward[-1] + MINUTE
    else:  # the latest after each step, then the next once the clock is past the latest run again
        assert dates[:-1] == [*before, after_forward[-1]]
        assert after_forward[-1] + MINUTE <= dates[-1] <= clock.now()
