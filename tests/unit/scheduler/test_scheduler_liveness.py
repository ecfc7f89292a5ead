"""Two schedulers' views of each other's tries: when one counts the other as dead, what happens to the
tries it left, and what a late end event from a process that never took its try may change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import RecordingExecutor, make_dag, store_dag
from tradewind.config.settings import Settings
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TryProcessEvent
from tradewind.core.states import TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.scheduler.tick import Scheduler
from tradewind.store import engine as engine_module
from tradewind.store import jobs, task_instances
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run


def _register(sessions: sessionmaker[Session], clock: FrozenClock) -> int:
    with transaction(sessions) as session:
        return jobs.register_job(
            session=session, job_type="scheduler", hostname="h", pid=1, executor="local", now=clock.now()
        )


def _beat(sessions: sessionmaker[Session], job_id: int, clock: FrozenClock) -> None:
    with transaction(sessions) as session:
        jobs.job_heartbeat(session=session, job_id=job_id, now=clock.now())


def _ti(sessions: sessionmaker[Session], w: ExecuteTask) -> tuple[str | None, int, int | None]:
    with sessions() as session:
        ti = task_instances.get_task_instance(session=session, key=w.ti_key)
        return ti.state, ti.try_number, ti.queued_by_job_id


class Pair:
    """Scheduler A (job ``a``) and scheduler B (job ``b``), each with its own executor twin."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: FrozenClock) -> None:
        self.sessions, self.clock = sessions, clock
        self.a, self.b = _register(sessions, clock), _register(sessions, clock)
        self.ex_a, self.ex_b = RecordingExecutor(), RecordingExecutor()
        self.sched_a = Scheduler(settings=settings, session_factory=sessions, executor=self.ex_a, job_id=self.a)
        self.sched_b = Scheduler(settings=settings, session_factory=sessions, executor=self.ex_b, job_id=self.b)

    def queue_one_by_a(self) -> ExecuteTask:
        store_dag(self.sessions, make_dag("one", {"t": []}))
        with transaction(self.sessions) as session:
            trigger_run(session=session, dag_id="one", now=self.clock.now())
        self.sched_a.tick(self.clock.now())
        [w] = self.ex_a.take()
        return w


def test_a_scheduler_beating_late_but_within_the_threshold_keeps_its_queued_tries(
    sched_settings: Settings, sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    pair = Pair(sched_settings, sessions, clock)
    w = pair.queue_one_by_a()
    threshold = sched_settings.scheduler.liveness_threshold
    assert threshold == 30.0  # Airflow's default, well above 3 heartbeats of 5 s
    # A's loop was busy for 4 heartbeat intervals (a long iteration on a loaded machine); B beat on time.
    clock.advance(timedelta(seconds=4 * sched_settings.scheduler.heartbeat_interval))
    _beat(sessions, pair.b, clock)
    assert pair.sched_b.adopt(clock.now()) == (0, 0)
    assert _ti(sessions, w) == (TaskInstanceState.QUEUED, 1, pair.a)
    # A stays silent past the threshold: B schedules A's queued try again (a local process cannot be adopted).
    clock.advance(timedelta(seconds=threshold))
    _beat(sessions, pair.b, clock)
    assert pair.sched_b.adopt(clock.now()) == (0, 1)
    assert _ti(sessions, w) == (TaskInstanceState.SCHEDULED, 0, None)


def test_an_end_event_about_a_try_another_scheduler_queued_since_is_ignored(
    sched_settings: Settings, sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    pair = Pair(sched_settings, sessions, clock)
    w = pair.queue_one_by_a()
    clock.advance(timedelta(seconds=sched_settings.scheduler.liveness_threshold + 1))
    _beat(sessions, pair.b, clock)
    assert pair.sched_b.adopt(clock.now()) == (0, 1)
    pair.sched_b.tick(clock.now())
    [again] = pair.ex_b.take()
    assert again.try_key == w.try_key  # same try number: a try scheduled again keeps it
    assert _ti(sessions, w) == (TaskInstanceState.QUEUED, 1, pair.b)
    # A was alive after all: its process for the try dies before taking it (any exit code) ...
    pair.ex_a.finish(w.try_key, TryProcessEvent.FAILED, reason="exit code 1")
    pair.sched_a.tick(clock.now())
    # ... which says nothing about B's process, which is about to start it.
    assert _ti(sessions, w) == (TaskInstanceState.QUEUED, 1, pair.b)


def test_a_runner_refused_its_try_exits_cleanly_and_that_does_not_fail_the_try_queued_again(
    sched_settings: Settings, sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    pair = Pair(sched_settings, sessions, clock)
    w = pair.queue_one_by_a()
    # The runner arrives while the try is momentarily scheduled again, is refused and exits 0; by the time
    # its end is reported, the same scheduler has queued the try once more.
    pair.ex_a.finish(w.try_key, TryProcessEvent.EXITED_CLEANLY)
    pair.sched_a.tick(clock.now())
    assert _ti(sessions, w) == (TaskInstanceState.QUEUED, 1, pair.a)


def test_a_process_that_died_before_taking_its_queued_try_fails_it(
    sched_settings: Settings, sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    pair = Pair(sched_settings, sessions, clock)
    w = pair.queue_one_by_a()
    pair.ex_a.finish(w.try_key, TryProcessEvent.FAILED, reason="task process killed by SIGKILL")
    pair.sched_a.tick(clock.now())
    state, try_number, _job = _ti(sessions, w)
    assert (state, try_number) == (TaskInstanceState.FAILED, 1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # holds SQLite's write lock to fail the tick
def test_events_of_a_tick_whose_transaction_failed_are_applied_by_the_next(
    sched_settings: Settings, sessions: sessionmaker[Session], clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = Pair(sched_settings, sessions, clock)
    w = pair.queue_one_by_a()
    pair.ex_a.finish(w.try_key, TryProcessEvent.FAILED, reason="task process killed by SIGKILL")
    monkeypatch.setattr(engine_module, "WRITE_LOCK_TIMEOUT", 0.2)
    holder = sessions.kw["bind"].raw_connection()
    holder.driver_connection.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(OperationalError, match="locked"):
            pair.sched_a.tick(clock.now())
    finally:
        holder.driver_connection.execute("ROLLBACK")
        holder.close()
    assert _ti(sessions, w)[0] == TaskInstanceState.QUEUED
    assert pair.ex_a.get_events() == []  # the executor handed its event over once ...
    pair.sched_a.tick(clock.now())
    assert (
        _ti(sessions, w)[0] == TaskInstanceState.FAILED
    )  # ... and it was not lost with the rolled-back tick
