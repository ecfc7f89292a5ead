"""Which DAGs a tick looks at for new runs, and when a tick asks for another at once (ADR 0027)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TryProcessEvent
from tradewind.core.states import TaskInstanceState
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
    assert first.runs_started == 1 and first.go_round  # a run started: another tick may find more
    [w] = executor.take()
    second = scheduler.tick(clock.now())
    assert not second.did_work and not second.go_round
    # A STARTED event alone needs no tick: it waits for the next one, which records the compute's id.
    executor.started(w.try_key, external_id="4242")
    assert scheduler.only_start_events()
    assert executor.get_events() == []
    executor.finish(w.try_key, TryProcessEvent.FAILED, reason="killed")
    assert not scheduler.only_start_events()
    third = scheduler.tick(clock.now(), events_only=True)
    assert third.events == 1 and third.go_round  # the try failed here: planning ran too
    with sessions() as session:
        [a] = [t for t in task_instances.list_task_instances(session=session, dag_id="chain", run_id=run_id)[0]
               if t.task_id == "a"]  # fmt: skip
        assert a.external_executor_id == "4242"
        assert a.state == TaskInstanceState.FAILED  # no retries: the compute's death ends the try
