"""DAG runs: run ids, creation, queries and compare-and-set state changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from tradewind.core.states import DagRunState, DagRunType
from tradewind.sdk.errors import ConflictError, InvalidTransitionError, NotFoundError, ParamValidationError
from tradewind.sdk.schedules import DataInterval
from tradewind.store.dag_runs import (
    ACTIVE_RUN_STATES,
    create_dag_run,
    get_dag_run,
    list_dag_runs,
    make_run_id,
    set_dag_run_state,
)
from tradewind.store.tables import DagRunModel

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def new_run(session: Session) -> Callable[..., DagRunModel]:
    def build(
        run_id: str, *, dag_id: str = "etl", day: int = 0, run_type: str = "scheduled", state: str = "queued"
    ) -> DagRunModel:
        logical_date = NOW + day * DAY
        return create_dag_run(
            session=session,
            dag_id=dag_id,
            run_id=run_id,
            run_type=run_type,
            logical_date=logical_date,
            data_interval=DataInterval(logical_date, logical_date + DAY),
            state=state,
            now=NOW,
        )

    return build


def test_run_ids_follow_airflow() -> None:
    assert make_run_id(DagRunType.MANUAL, NOW) == "manual__2026-11-24T06:00:00+00:00"
    paris = datetime(2026, 11, 24, 7, 0, tzinfo=timezone(timedelta(hours=1)))
    assert make_run_id("scheduled", paris) == "scheduled__2026-11-24T06:00:00+00:00"


def test_create_stores_every_field(session: Session) -> None:
    run = create_dag_run(
        session=session,
        dag_id="etl",
        run_id="manual__x",
        run_type=DagRunType.MANUAL,
        logical_date=NOW,
        data_interval=DataInterval(NOW - DAY, NOW),
        conf={"date": "2026-11-24"},
        external_trigger=True,
        triggered_by="ada",
        dag_hash="abc",
        now=NOW,
    )
    session.expire_all()
    stored = get_dag_run(session=session, dag_id="etl", run_id="manual__x")
    assert stored.id == run.id
    assert (stored.state, stored.run_type, stored.queued_at, stored.start_date) == (
        "queued",
        "manual",
        NOW,
        None,
    )
    assert (stored.data_interval_start, stored.data_interval_end) == (NOW - DAY, NOW)
    assert (stored.conf, stored.external_trigger, stored.triggered_by, stored.dag_hash) == (
        {"date": "2026-11-24"},
        True,
        "ada",
        "abc",
    )


def test_a_duplicate_run_id_is_a_conflict_naming_it(
    session: Session, new_run: Callable[..., DagRunModel]
) -> None:
    new_run("r1")
    with pytest.raises(ConflictError, match="'r1'"):
        new_run("r1")
    new_run("r1", dag_id="other")  # run ids are unique per DAG only
    assert list_dag_runs(session=session)[1] == 2


def test_get_a_missing_run(session: Session) -> None:
    with pytest.raises(NotFoundError, match="'etl' has no run 'nope'"):
        get_dag_run(session=session, dag_id="etl", run_id="nope")


def test_list_filters_orders_and_pages(session: Session, new_run: Callable[..., DagRunModel]) -> None:
    new_run("a", day=0, state="success")
    new_run("b", day=1, state="running")
    new_run("c", day=2, run_type="manual")
    new_run("z", dag_id="other", day=3)
    rows, total = list_dag_runs(session=session, dag_id="etl")
    assert ([r.run_id for r in rows], total) == (["c", "b", "a"], 3)
    rows, total = list_dag_runs(session=session, dag_id="etl", order_by="logical_date", limit=2, offset=1)
    assert ([r.run_id for r in rows], total) == (["b", "c"], 3)
    rows, _ = list_dag_runs(session=session, states=[DagRunState.QUEUED])
    assert [r.run_id for r in rows] == ["z", "c"]
    rows, _ = list_dag_runs(session=session, run_type="manual")
    assert [r.run_id for r in rows] == ["c"]
    with pytest.raises(ParamValidationError, match="order by 'conf'"):
        list_dag_runs(session=session, order_by="conf")


def test_state_changes_are_compare_and_set_with_dates(
    session: Session, new_run: Callable[..., DagRunModel]
) -> None:
    new_run("r")
    later = NOW + timedelta(minutes=5)
    assert set_dag_run_state(
        session=session, dag_id="etl", run_id="r", expected="queued", target="running", now=later
    )
    assert not set_dag_run_state(
        session=session, dag_id="etl", run_id="r", expected="queued", target="running", now=later
    )
    run = get_dag_run(session=session, dag_id="etl", run_id="r")
    assert (run.state, run.start_date, run.end_date) == ("running", later, None)
    end = later + timedelta(minutes=1)
    assert set_dag_run_state(
        session=session, dag_id="etl", run_id="r", expected=None, target="success", now=end
    )
    assert (run.state, run.start_date, run.end_date) == ("success", later, end)
    # Back to running (a task marked failed -> re-run) keeps the first start.
    assert set_dag_run_state(
        session=session, dag_id="etl", run_id="r", expected={"success", "failed"}, target="running", now=end
    )
    assert (run.start_date, run.end_date) == (later, None)
    assert set_dag_run_state(
        session=session, dag_id="etl", run_id="r", expected=None, target="queued", now=end
    )
    assert (run.state, run.start_date, run.end_date, run.queued_at) == ("queued", None, None, end)
    with pytest.raises(InvalidTransitionError):
        set_dag_run_state(
            session=session, dag_id="etl", run_id="r", expected="queued", target="queued", now=end
        )
    # Already in the target state: no change to make.
    assert not set_dag_run_state(
        session=session, dag_id="etl", run_id="r", expected=None, target="queued", now=end
    )


def test_active_runs_and_latest_run(session: Session, new_run: Callable[..., DagRunModel]) -> None:
    assert list_dag_runs(session=session, dag_id="etl", limit=1) == ([], 0)
    new_run("a", day=0, state="success")
    new_run("b", day=2, state="running", run_type="manual")
    new_run("c", day=1)
    _, active = list_dag_runs(session=session, dag_id="etl", states=ACTIVE_RUN_STATES)
    assert active == 2
    _, running = list_dag_runs(session=session, dag_id="etl", states={DagRunState.RUNNING})
    assert running == 1
    [latest], _ = list_dag_runs(session=session, dag_id="etl", limit=1)
    assert latest.run_id == "b"
    [latest_scheduled], _ = list_dag_runs(session=session, dag_id="etl", run_type="scheduled", limit=1)
    assert latest_scheduled.run_id == "c"
