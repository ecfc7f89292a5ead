"""Deferred tries through the scheduler with a frozen clock: deferred frees the slot and is not dispatched
until its trigger fires; then it resumes at the same try number with the event; a timeout resumes it to fail;
clearing ends the deferral and housekeeping deletes the trigger; a restarted scheduler loses nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import run_state, states, trigger
from tests.unit.scheduler.twins import RecordingExecutor, make_dag, store_dag
from tradewind.config.settings import Settings
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TryProcessEvent
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import ACTIVE_TI_STATES, DagRunState, TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.execution.models import ClaimedTry, DeferReport, TryEnded, TryReport
from tradewind.execution.try_state import TryState
from tradewind.scheduler.tick import Scheduler
from tradewind.store import scheduling, task_instances, triggers
from tradewind.store.engine import transaction
from tradewind.store.tables import TriggerModel

JOB = 77


def claim(sessions: sessionmaker[Session], w: ExecuteTask, clock: FrozenClock) -> tuple[TryState, ClaimedTry]:
    state = TryState(sessions, w.ti_key, w.try_number)
    claimed = state.claim(now=clock.now(), hostname="worker-1", pid=4242)
    assert isinstance(claimed, ClaimedTry), claimed
    return state, claimed


def defer(
    sessions: sessionmaker[Session], w: ExecuteTask, clock: FrozenClock, timeout: float | None = None
) -> int:
    state, _ = claim(sessions, w, clock)
    report = DeferReport(
        classpath="tradewind.sdk.triggers.temporal.DateTimeTrigger",
        kwargs={"moment": {"__tradewind_type__": "datetime", "value": "2030-01-01T00:00:00+00:00"}},
        next_method="done",
        next_kwargs={"asked": 2},
        timeout_seconds=timeout,
    )
    assert state.defer(report, now=clock.now()) is None
    row = ti_row(sessions, w.ti_key)
    assert row.trigger_id is not None
    return int(row.trigger_id)


def ti_row(sessions: sessionmaker[Session], key: TaskInstanceKey) -> Any:
    with sessions() as session:
        return task_instances.get_task_instance(session=session, key=key)


def fire(
    sessions: sessionmaker[Session], trigger_id: int, clock: FrozenClock, payload: Any = "ok"
) -> int | None:
    with transaction(sessions) as session:
        triggers.claim_triggers(session=session, triggerer_id=JOB, alive_triggerer_ids=[JOB], limit=10)
        return triggers.fire_trigger(
            session=session, trigger_id=trigger_id, triggerer_id=JOB, payload=payload, now=clock.now()
        )


def test_deferred_frees_the_slot_and_resumes_with_the_event_at_the_same_try(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("wait", {"wait": ["after"]}))
    run_id = trigger(sessions, "wait")
    scheduler.tick(clock.now())
    [w] = executor.take()
    trigger_id = defer(sessions, w, clock)
    assert TaskInstanceState.DEFERRED not in ACTIVE_TI_STATES
    # The runner exits 0 after deferring: the event changes nothing.
    executor.finish(w.try_key, TryProcessEvent.EXITED_CLEANLY)
    clock.advance(timedelta(hours=1))  # long past heartbeat and queued timeouts
    scheduler.tick(clock.now())
    assert executor.take() == []
    assert states(sessions, "wait", run_id)["wait"] == TaskInstanceState.DEFERRED
    with sessions() as session:
        assert scheduling.active_task_counts(session=session) == ({}, {})

    assert fire(sessions, trigger_id, clock, payload={"n": 1}) == 1
    row = ti_row(sessions, w.ti_key)
    assert (row.state, row.trigger_id, row.next_method) == (TaskInstanceState.SCHEDULED, None, "done")
    assert row.next_kwargs == {"asked": 2, "event": {"n": 1}}
    with sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == []
    scheduler.tick(clock.now())
    [again] = executor.take()
    assert (again.task_id, again.try_number) == ("wait", 1)
    state, claimed = claim(sessions, again, clock)
    assert (claimed.next_method, claimed.next_kwargs) == ("done", {"asked": 2, "event": {"n": 1}})
    assert isinstance(state.finish(TryReport(outcome="success"), now=clock.now()), TryEnded)
    row = ti_row(sessions, w.ti_key)
    assert (row.state, row.try_number, row.next_method, row.next_kwargs) == (
        TaskInstanceState.SUCCESS,
        1,
        None,
        None,
    )
    scheduler.tick(clock.now())
    [after] = executor.take()
    assert (after.task_id, after.try_number) == ("after", 1)


def test_a_resumed_try_that_fails_is_retried_as_a_new_try_from_execute(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("wait", {"wait": []}, tasks={"wait": {"retries": 1, "retry_delay": 0}}))
    trigger(sessions, "wait")
    scheduler.tick(clock.now())
    [w] = executor.take()
    fire(sessions, defer(sessions, w, clock), clock)
    scheduler.tick(clock.now())
    [again] = executor.take()
    state, _ = claim(sessions, again, clock)
    assert isinstance(state.finish(TryReport(outcome="failed"), now=clock.now()), TryEnded)
    clock.advance(timedelta(seconds=1))
    scheduler.tick(clock.now())
    [retry] = executor.take()
    assert retry.try_number == 2
    _, claimed = claim(sessions, retry, clock)
    assert claimed.next_method is None and claimed.next_kwargs is None


def test_a_timeout_resumes_the_try_to_fail(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("wait", {"wait": []}))
    trigger(sessions, "wait")
    scheduler.tick(clock.now())
    [w] = executor.take()
    trigger_id = defer(sessions, w, clock, timeout=60)
    clock.advance(timedelta(seconds=59))
    scheduler.tick(clock.now())
    assert executor.take() == []
    clock.advance(timedelta(seconds=2))
    scheduler.tick(clock.now())
    [again] = executor.take()
    assert again.try_number == 1
    _, claimed = claim(sessions, again, clock)
    assert (claimed.next_method, claimed.next_kwargs) == ("__fail__", {"error": "Trigger/execution timeout"})
    # The trigger nobody waits on any more goes with the next housekeeping; firing it now changes nothing.
    assert fire(sessions, trigger_id, clock) == 0
    scheduler.housekeeping(clock.now())


def test_clearing_a_deferred_task_ends_the_deferral_and_housekeeping_deletes_its_trigger(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    sdag = make_dag("wait", {"wait": []})
    store_dag(sessions, sdag)
    run_id = trigger(sessions, "wait")
    scheduler.tick(clock.now())
    [w] = executor.take()
    defer(sessions, w, clock)
    with transaction(sessions) as session:
        task_instances.clear_task_instances(
            session=session, dag_id="wait", run_id=run_id, task_ids=["wait"], include_downstream=False,
            sdag=sdag, now=clock.now(),
        )  # fmt: skip
    row = ti_row(sessions, w.ti_key)
    assert (row.state, row.trigger_id, row.next_method, row.next_kwargs) == (None, None, None, None)
    scheduler.housekeeping(clock.now())
    with sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == []
    scheduler.tick(clock.now())
    [again] = executor.take()
    assert again.try_number == 2  # a cleared task starts a new try, from execute


def test_a_restarted_scheduler_loses_no_deferred_task(
    sessions: sessionmaker[Session], sched_settings: Settings, clock: FrozenClock
) -> None:
    first = RecordingExecutor()
    store_dag(sessions, make_dag("wait", {"wait": []}))
    run_id = trigger(sessions, "wait")
    Scheduler(settings=sched_settings, session_factory=sessions, executor=first, job_id=None).tick(
        clock.now()
    )
    [w] = first.take()
    trigger_id = defer(sessions, w, clock)
    second = RecordingExecutor()
    restarted = Scheduler(settings=sched_settings, session_factory=sessions, executor=second, job_id=None)
    restarted.tick(clock.now())
    restarted.housekeeping(clock.now())
    assert second.take() == []
    with sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == [trigger_id]
    fire(sessions, trigger_id, clock)
    restarted.tick(clock.now())
    [again] = second.take()
    state, _ = claim(sessions, again, clock)
    state.finish(TryReport(outcome="success"), now=clock.now())
    restarted.tick(clock.now())
    assert run_state(sessions, "wait", run_id) == DagRunState.SUCCESS


def test_defer_of_a_try_someone_else_moved_stores_no_trigger(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("wait", {"wait": []}))
    trigger(sessions, "wait")
    scheduler.tick(clock.now())
    [w] = executor.take()
    state, _ = claim(sessions, w, clock)
    with transaction(sessions) as session:
        task_instances.mark_task_instance(
            session=session, key=w.ti_key, state=TaskInstanceState.FAILED, now=clock.now()
        )
    report = DeferReport(classpath="x.Y", kwargs={}, next_method="done")
    assert state.defer(report, now=clock.now()) == "failed"
    with sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == []
