"""When a run ends, the scheduler asks for the DAG's on_success/on_failure callback in the same transaction
(it never runs user code itself); the DAG processor takes the request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import act_as_runner, run_state, trigger
from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind.core.clock import FrozenClock
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.scheduler.tick import Scheduler
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store.engine import transaction
from tradewind.store.tables import DagCallbackRequestModel


def _requests(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    with transaction(sessions) as session:
        rows = session.scalars(select(DagCallbackRequestModel).order_by(DagCallbackRequestModel.id)).all()
        return [(r.dag_id, r.run_id, r.callback, r.reason) for r in rows]


def _run_to_end(sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor,
                clock: FrozenClock, dag_id: str, outcome: TaskInstanceState) -> str:
    run_id = trigger(sessions, dag_id)
    scheduler.tick(clock.now())
    [w] = executor.take()
    act_as_runner(sessions, w, outcome)
    scheduler.tick(clock.now())
    return run_id


def test_a_failed_run_asks_for_the_failure_callback_with_reason_task_failure(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("cb", {"a": []}, has_on_failure_callback=True, has_on_success_callback=True))
    run_id = _run_to_end(sessions, scheduler, executor, clock, "cb", TaskInstanceState.FAILED)
    assert run_state(sessions, "cb", run_id) == DagRunState.FAILED
    assert _requests(sessions) == [("cb", run_id, "on_failure_callback", "task_failure")]


def test_a_successful_run_asks_for_the_success_callback(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("cb", {"a": []}, has_on_success_callback=True))
    run_id = _run_to_end(sessions, scheduler, executor, clock, "cb", TaskInstanceState.SUCCESS)
    assert _requests(sessions) == [("cb", run_id, "on_success_callback", "success")]


def test_a_dag_without_the_callback_gets_no_request(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("cb", {"a": []}, has_on_failure_callback=True))
    _run_to_end(sessions, scheduler, executor, clock, "cb", TaskInstanceState.SUCCESS)
    assert _requests(sessions) == []


def test_a_timed_out_run_asks_with_reason_timed_out(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("slow", {"a": []}, dagrun_timeout=30.0, has_on_failure_callback=True))
    run_id = trigger(sessions, "slow")
    scheduler.tick(clock.now())
    executor.take()
    clock.advance(timedelta(seconds=31))
    scheduler.tick(clock.now())
    assert _requests(sessions) == [("slow", run_id, "on_failure_callback", "timed_out")]


def test_requests_are_claimed_once_and_a_stale_claim_is_taken_again(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        assert dag_callbacks.request_dag_callback(session=session, dag_id="d", run_id="r",
                                                  callback="on_failure_callback", reason="task_failure", now=START)
        # The same run ending again before the first request ran: still one call.
        assert not dag_callbacks.request_dag_callback(session=session, dag_id="d", run_id="r",
                                                      callback="on_failure_callback", reason="task_failure",
                                                      now=START)
    stale_before = START - timedelta(minutes=2)
    with transaction(sessions) as session:
        [request] = dag_callbacks.claimable_dag_callbacks(session=session, stale_before=stale_before)
        assert dag_callbacks.claim_dag_callback(session=session, request_id=request.id, now=START,
                                                stale_before=stale_before)
    with transaction(sessions) as session:
        assert not dag_callbacks.claim_dag_callback(session=session, request_id=request.id, now=START,
                                                    stale_before=stale_before)
        assert dag_callbacks.claimable_dag_callbacks(session=session, stale_before=stale_before) == []
        later = START + timedelta(minutes=5)
        assert dag_callbacks.claim_dag_callback(session=session, request_id=request.id, now=later,
                                                stale_before=later - timedelta(minutes=2))
        assert dag_callbacks.delete_dag_callback_request(session=session, request_id=request.id)
        assert not dag_callbacks.delete_dag_callback_request(session=session, request_id=request.id)
