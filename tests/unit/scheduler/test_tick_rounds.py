"""Which DAGs a tick looks at for new runs, and when a tick asks for another at once (ADR 0027)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind.config.settings import Settings
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TryProcessEvent
from tradewind.core.states import TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.scheduler.tick import Scheduler
from tradewind.store import dag_runs, scheduling, task_instances
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run


def test_a_hundred_manual_dags_do_not_hide_a_due_scheduled_one(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    """DAGs without scheduled runs keep no next run; the tick must neither read them each time nor let them
    fill the hundred DAGs it looks at (SQLite sorts a missing next run first)."""
    for i in range(101):
        store_dag(sessions, make_dag(f"manual_{i:03}", {"a": []}))
    store_dag(sessions, make_dag("daily", {"a": []}, timetable={"type": "cron", "expression": "@daily"},
                                 start_date=START - timedelta(days=2)))  # fmt: skip
    with sessions() as session:
        due = scheduling.dags_due(session=session, now=clock.now())
        assert [d.dag_id for d in due] == ["daily"]
    scheduler.tick(clock.now())
    with sessions() as session:
        _, total = dag_runs.list_dag_runs(session=session, dag_id="daily")
    assert total == 1


def test_a_tick_that_queued_all_it_scheduled_does_not_go_round_and_start_events_wait(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("chain", {"a": ["b"]}))
    with transaction(sessions) as session:
        run_id = trigger_run(session=session, dag_id="chain", now=START).run_id
    first = scheduler.tick(clock.now())
    # The run it started was planned and its first task queued by the same tick: nothing is left for another.
    assert first.runs_started == 1 and not first.go_round
    [w] = executor.take()
    second = scheduler.tick(clock.now())
    assert not second.did_work and not second.go_round
    # A STARTED event alone needs no tick: it waits for the next one, which records the compute's id.
    executor.started(w.try_key, external_id="4242")
    assert scheduler.events_can_wait()
    assert executor.get_events() == []
    executor.finish(w.try_key, TryProcessEvent.FAILED, reason="killed")
    assert not scheduler.events_can_wait()
    third = scheduler.tick(clock.now(), events_only=True)
    assert third.events == 1 and third.go_round  # the try failed here: planning ran too
    with sessions() as session:
        [a] = [t for t in task_instances.list_task_instances(session=session, dag_id="chain", run_id=run_id)[0]
               if t.task_id == "a"]  # fmt: skip
        assert a.external_executor_id == "4242"
        assert a.state == TaskInstanceState.FAILED  # no retries: the compute's death ends the try


def test_a_tick_that_left_queued_runs_unread_goes_round(
    sessions: sessionmaker[Session],
    scheduler: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tick reads one page of queued runs; with more queued than that it asks for another tick at once,
    which starts the rest."""
    monkeypatch.setattr(scheduling, "QUEUED_RUNS_PAGE", 2)
    store_dag(sessions, make_dag("wide", {"a": []}))
    with transaction(sessions) as session:
        for i in range(3):
            trigger_run(session=session, dag_id="wide", now=START + timedelta(minutes=i))
    first = scheduler.tick(clock.now())
    assert first.runs_started == 2 and first.go_round
    second = scheduler.tick(clock.now())
    assert second.runs_started == 1 and not second.go_round
    assert len(executor.take()) == 3


def test_a_clean_exit_waits_for_the_next_tick_unless_tries_wait_for_its_slot(
    sessions: sessionmaker[Session], sched_settings: Settings, clock: FrozenClock
) -> None:
    """A try's clean exit frees an executor slot; it needs a tick of its own only when the last dispatch
    filled every slot (more tries may be waiting for one). Its events are applied by the next tick either
    way."""
    executor = RecordingExecutor(parallelism=2)
    scheduler = Scheduler(
        settings=sched_settings, session_factory=sessions, executor=executor, monotonic=clock.monotonic
    )
    store_dag(sessions, make_dag("wide", {"a": [], "b": [], "c": []}))
    with transaction(sessions) as session:
        run_id = trigger_run(session=session, dag_id="wide", now=START).run_id
    scheduler.tick(clock.now())
    first, second = executor.take()  # two slots, three tasks: one waits for a slot
    _succeed(sessions, first)
    executor.finish(first.try_key, TryProcessEvent.EXITED_CLEANLY)
    assert not scheduler.events_can_wait()
    scheduler.tick(clock.now(), events_only=True)
    [third] = executor.take()  # the freed slot went to the waiting task
    _succeed(sessions, second)
    executor.finish(second.try_key, TryProcessEvent.EXITED_CLEANLY)
    assert scheduler.events_can_wait()  # nothing waits for a slot now
    executor.finish(third.try_key, TryProcessEvent.FAILED, reason="killed")
    assert not scheduler.events_can_wait()  # a failed compute may end a try: it ticks
    scheduler.tick(clock.now())
    with sessions() as session:
        states = {t.task_id: t.state for t in task_instances.list_task_instances(
            session=session, dag_id="wide", run_id=run_id)[0]}  # fmt: skip
    assert states == {"a": TaskInstanceState.SUCCESS, "b": TaskInstanceState.SUCCESS,
                      third.ti_key.task_id: TaskInstanceState.FAILED}  # fmt: skip


def _succeed(sessions: sessionmaker[Session], workload: ExecuteTask) -> None:
    """What the try's runner reports before its process exits."""
    with transaction(sessions) as session:
        assert task_instances.transition(
            session=session, key=workload.ti_key, expected=TaskInstanceState.QUEUED,
            target=TaskInstanceState.RUNNING)  # fmt: skip
        assert task_instances.transition(
            session=session, key=workload.ti_key, expected=TaskInstanceState.RUNNING,
            target=TaskInstanceState.SUCCESS)  # fmt: skip


def test_a_full_tick_leaves_quiet_events_for_a_tick_a_loop_interval_later(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    """A start and a clean exit change no state: a full tick (say, the ring of a try's end) leaves them for
    later rather than apply them before its commit; a tick a loop interval later applies them."""
    store_dag(sessions, make_dag("pair", {"a": [], "b": []}))
    with transaction(sessions) as session:
        run_id = trigger_run(session=session, dag_id="pair", now=START).run_id
    scheduler.tick(clock.now())
    first, second = executor.take()
    _succeed(sessions, first)
    executor.finish(first.try_key, TryProcessEvent.EXITED_CLEANLY)
    with transaction(sessions) as session:  # the second try's runner claimed it, and runs
        assert task_instances.transition(session=session, key=second.ti_key, expected=TaskInstanceState.QUEUED,
                                         target=TaskInstanceState.RUNNING)  # fmt: skip
    executor.started(second.try_key, external_id="4242")
    assert scheduler.tick(clock.now()).events == 0
    assert _external_id(sessions, run_id, second.ti_key.task_id) is None
    clock.advance(timedelta(seconds=scheduler.settings.scheduler.loop_interval))
    assert scheduler.tick(clock.now()).events == 0  # applied, and no state changed
    assert _external_id(sessions, run_id, second.ti_key.task_id) == "4242"


def _external_id(sessions: sessionmaker[Session], run_id: str, task_id: str) -> str | None:
    with sessions() as session:
        [ti] = [t for t in task_instances.list_task_instances(session=session, dag_id="pair", run_id=run_id)[0]
                if t.task_id == task_id]  # fmt: skip
        return ti.external_executor_id
