"""Claiming, heartbeating and finishing a try are compare-and-set: only one runner ever owns a try."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.integration.runner.harness import DAG_ID, RUN_ID, RunnerEnv
from tradewind.core.states import TaskInstanceState
from tradewind.execution.models import ClaimedTry, Refusal, TryEnded, TryReport, XComValue
from tradewind.execution.try_ending import TakenAway
from tradewind.execution.try_state import TryState, current_try_number
from tradewind.store import task_instances, xcom
from tradewind.store.engine import transaction

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_claim_moves_queued_to_running_once(runner_env: RunnerEnv) -> None:
    key = runner_env.queue("bash_echo", try_number=1)
    state = TryState(runner_env.factory, key, 1)
    claim = state.claim(now=NOW, hostname="host-a", pid=4242)
    assert isinstance(claim, ClaimedTry)
    assert claim.run.logical_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert claim.relative_fileloc == "runner_basics.py"
    assert claim.fileloc.endswith("/runner_basics.py")
    assert state.stored_task() is not None and state.stored_task().task_id == "bash_echo"  # type: ignore[union-attr]
    ti = runner_env.ti("bash_echo")
    assert (ti.state, ti.hostname, ti.pid, ti.start_date) == ("running", "host-a", 4242, NOW)

    second = TryState(runner_env.factory, key, 1).claim(now=NOW, hostname="host-b", pid=1)
    assert isinstance(second, Refusal)
    assert second.reason == "try 1 is already running on host-a (pid 4242)"
    assert runner_env.ti("bash_echo").hostname == "host-a"


def test_a_claim_whose_answer_was_lost_is_this_runners_own_when_it_asks_again(runner_env: RunnerEnv) -> None:
    """The claim committed, then the connection died before the answer came back (a database restart, the
    execution API killed): the same runner retrying gets its claim, with the start it recorded, so its task
    runs (once); any other process is still refused."""
    key = runner_env.queue("bash_echo", try_number=1)
    assert isinstance(TryState(runner_env.factory, key, 1).claim(now=NOW, hostname="host-a", pid=4242), ClaimedTry)
    later = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    again = TryState(runner_env.factory, key, 1).claim(now=later, hostname="host-a", pid=4242)
    assert isinstance(again, ClaimedTry) and again.start_date == NOW
    assert isinstance(TryState(runner_env.factory, key, 1).claim(now=later, hostname="host-a", pid=1), Refusal)


def test_claim_of_another_try_number_is_refused(runner_env: RunnerEnv) -> None:
    key = runner_env.queue("bash_echo", try_number=2)
    refused = TryState(runner_env.factory, key, 1).claim(now=NOW, hostname="h", pid=1)
    assert isinstance(refused, Refusal)
    assert "at try 2 (queued), not try 1" in refused.reason
    assert runner_env.ti("bash_echo").state == "queued"
    assert current_try_number(runner_env.factory, key) == 2


def test_heartbeat_reports_a_clear(runner_env: RunnerEnv) -> None:
    key = runner_env.queue("waiter")
    state = TryState(runner_env.factory, key, 1)
    assert isinstance(state.claim(now=NOW, hostname="h", pid=1), ClaimedTry)
    assert state.heartbeat(now=NOW) is None
    with transaction(runner_env.factory) as session:
        assert task_instances.transition(
            session=session, key=key, expected=TaskInstanceState.RUNNING, target=None, by_user=True
        )
    assert state.heartbeat(now=NOW) == "none"


def test_finish_leaves_a_state_set_by_someone_else(runner_env: RunnerEnv) -> None:
    key = runner_env.queue("waiter")
    state = TryState(runner_env.factory, key, 1)
    assert isinstance(state.claim(now=NOW, hostname="h", pid=1), ClaimedTry)
    with transaction(runner_env.factory) as session:
        task_instances.mark_task_instance(session=session, key=key, state=TaskInstanceState.SUCCESS, now=NOW)
    assert state.finish(TryReport(outcome="failed"), now=NOW) == TakenAway("success")
    assert runner_env.ti("waiter").state == "success"


def test_finish_writes_the_outcome_and_archives_the_try(runner_env: RunnerEnv) -> None:
    key = runner_env.queue("waiter")
    state = TryState(runner_env.factory, key, 1)
    assert isinstance(state.claim(now=NOW, hostname="h", pid=1), ClaimedTry)
    end = state.finish(TryReport(outcome="failed", reason="boom"), now=NOW)
    assert isinstance(end, TryEnded) and end.state == "failed"  # no retries: failed, decided by the server
    ti = runner_env.ti("waiter")
    assert (ti.state, ti.state_reason) == ("failed", "boom")
    with transaction(runner_env.factory) as session:
        tries = task_instances.list_tries(session=session, key=key)
    assert [(t.try_number, t.state, t.is_current) for t in tries] == [(1, "failed", False)]


def test_a_successful_end_stores_what_the_try_returned_with_it(runner_env: RunnerEnv) -> None:
    """The XComs of the try's result come with its report and are written in the end's transaction."""
    key = runner_env.queue("waiter")
    state = TryState(runner_env.factory, key, 1)
    assert isinstance(state.claim(now=NOW, hostname="h", pid=1), ClaimedTry)
    report = TryReport(
        outcome="success",
        xcoms=[XComValue(key="total", value=3), XComValue(key="return_value", value={"total": 3, "rows": [1, 2]})],
    )
    end = state.finish(report, now=NOW)
    assert isinstance(end, TryEnded) and end.state == "success"
    assert runner_env.xcom("waiter") == {"total": 3, "rows": [1, 2]}
    assert runner_env.xcom("waiter", key="total") == 3


def test_a_try_taken_away_stores_nothing_it_returned(runner_env: RunnerEnv) -> None:
    """A try cleared (or marked) while it ran reports its end too late: neither its state nor its result is
    written, so the next try does not find a stale value."""
    key = runner_env.queue("waiter")
    state = TryState(runner_env.factory, key, 1)
    assert isinstance(state.claim(now=NOW, hostname="h", pid=1), ClaimedTry)
    with transaction(runner_env.factory) as session:
        assert task_instances.transition(
            session=session, key=key, expected=TaskInstanceState.RUNNING, target=None, by_user=True
        )
    report = TryReport(outcome="success", xcoms=[XComValue(key="return_value", value=1)])
    assert state.finish(report, now=NOW) == TakenAway("none")
    assert runner_env.xcom("waiter") is None


def test_claim_drops_the_xcoms_of_earlier_tries(runner_env: RunnerEnv) -> None:
    with transaction(runner_env.factory) as session:
        for map_index in (0, 1):
            xcom.set_xcom(
                session=session, dag_id=DAG_ID, run_id=RUN_ID, task_id="double", map_index=map_index, value=9
            )
    key = runner_env.queue("double", map_index=1, try_number=2)
    assert isinstance(TryState(runner_env.factory, key, 2).claim(now=NOW, hostname="h", pid=1), ClaimedTry)
    assert runner_env.xcom("double", map_index=1) is None
    assert runner_env.xcom("double", map_index=0) == 9


def test_a_finished_try_is_archived_as_it_was_written(runner_env: RunnerEnv) -> None:
    """The history row of a try holds what its end wrote (state, end, duration, reason), read back from the
    database, with the start and host of its claim."""
    key = runner_env.queue("waiter")
    state = TryState(runner_env.factory, key, 1)
    assert isinstance(state.claim(now=NOW, hostname="host-a", pid=7), ClaimedTry)
    later = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    end = state.finish(TryReport(outcome="skipped", reason="nothing to do"), now=later)
    assert isinstance(end, TryEnded) and end.state == "skipped"
    with transaction(runner_env.factory) as session:
        (archived,) = task_instances.list_tries(session=session, key=key)
    assert (archived.state, archived.start_date, archived.end_date, archived.duration) == (
        "skipped", NOW, later, 30.0,
    )
    assert (archived.hostname, archived.state_reason) == ("host-a", "nothing to do")
