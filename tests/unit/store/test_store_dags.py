"""DAGs: upsert from parsing, listing with filters, pause, deactivate, delete, next-run bookkeeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedDag
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.schedules import DagRunInfo
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store import task_instances, xcom
from tradewind.store.dags import (
    deactivate_dags,
    delete_dag,
    get_dag,
    get_serialized_dag,
    list_dags,
    list_tags,
    set_next_dagrun,
    set_paused,
    upsert_dag,
)
from tradewind.store.tables import (
    DagCallbackRequestModel,
    DagRunModel,
    DagTagModel,
    SerializedDagModel,
    TaskInstanceHistoryModel,
    TaskInstanceModel,
    XComModel,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
MakeSdag = Callable[..., SerializedDag]


def test_upsert_creates_then_reports_only_real_changes(session: Session, make_sdag: MakeSdag) -> None:
    sdag = make_sdag("etl", tags=["finance"])
    assert upsert_dag(session=session, sdag=sdag, paused_default=True, now=NOW)
    dag = get_dag(session=session, dag_id="etl")
    assert (dag.is_paused, dag.is_active, dag.last_parsed_time, dag.fileloc) == (
        True,
        True,
        NOW,
        "/dags/etl.py",
    )
    later = NOW + timedelta(minutes=1)
    assert not upsert_dag(session=session, sdag=sdag, paused_default=True, now=later)
    assert get_dag(session=session, dag_id="etl").last_parsed_time == later
    changed = make_sdag("etl", edges={"extract": [], "load": [], "report": []}, tags=["finance"])
    assert upsert_dag(session=session, sdag=changed, paused_default=True, now=later)
    stored = get_serialized_dag(session=session, dag_id="etl")
    assert stored == changed


def test_upsert_keeps_the_pause_flag_a_user_set(session: Session, make_sdag: MakeSdag) -> None:
    upsert_dag(session=session, sdag=make_sdag("etl"), paused_default=True, now=NOW)
    set_paused(session=session, dag_id="etl", is_paused=False)
    upsert_dag(session=session, sdag=make_sdag("etl"), paused_default=True, now=NOW)
    assert get_dag(session=session, dag_id="etl").is_paused is False
    eager = make_sdag("eager").model_copy(update={"is_paused_upon_creation": False})
    upsert_dag(session=session, sdag=eager, paused_default=True, now=NOW)
    assert get_dag(session=session, dag_id="eager").is_paused is False


def test_upsert_reactivates_and_syncs_tags(session: Session, make_sdag: MakeSdag) -> None:
    upsert_dag(session=session, sdag=make_sdag("etl", tags=["a", "b"]), paused_default=False, now=NOW)
    assert deactivate_dags(session=session, dag_ids=["etl", "missing"]) == 1
    assert get_dag(session=session, dag_id="etl").is_active is False
    assert list_dags(session=session) == ([], 0)
    upsert_dag(session=session, sdag=make_sdag("etl", tags=["b", "c"]), paused_default=False, now=NOW)
    dag = get_dag(session=session, dag_id="etl")
    assert (dag.is_active, dag.tags) == (True, ["b", "c"])
    assert list_tags(session=session) == ["b", "c"]
    assert list_dags(session=session, tags=["a"]) == ([], 0)


def test_list_filters_orders_and_pages(session: Session, make_sdag: MakeSdag) -> None:
    for dag_id, tags in [
        ("sales_daily", ["finance"]),
        ("sales%x", []),
        ("ml_train", ["ml", "gpu"]),
        ("ETL", []),
    ]:
        upsert_dag(session=session, sdag=make_sdag(dag_id, tags=tags), paused_default=False, now=NOW)
    set_paused(session=session, dag_id="ml_train", is_paused=True)
    deactivate_dags(session=session, dag_ids=["ETL"])

    def ids(**kwargs: object) -> tuple[list[str], int]:
        rows, total = list_dags(session=session, **kwargs)  # type: ignore[arg-type]
        return [d.dag_id for d in rows], total

    assert ids() == (["ml_train", "sales%x", "sales_daily"], 3)
    assert ids(only_active=False) == (["ETL", "ml_train", "sales%x", "sales_daily"], 4)
    assert ids(paused=True) == (["ml_train"], 1)
    assert ids(paused=False) == (["sales%x", "sales_daily"], 2)
    assert ids(tags=["gpu", "finance"]) == (["ml_train", "sales_daily"], 2)
    # Search ignores case and takes % and _ literally.
    assert ids(search="SALES") == (["sales%x", "sales_daily"], 2)
    assert ids(search="s%") == (["sales%x"], 1)
    assert ids(search="s_d") == (["sales_daily"], 1)
    assert ids(order_by="-dag_id", limit=2, offset=1) == (["sales%x", "ml_train"], 3)


def test_missing_dag(session: Session) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        get_dag(session=session, dag_id="ghost")
    with pytest.raises(NotFoundError, match="'ghost'"):
        get_serialized_dag(session=session, dag_id="ghost")
    with pytest.raises(NotFoundError):
        set_paused(session=session, dag_id="ghost", is_paused=True)


def test_delete_dag_removes_all_its_metadata_and_nothing_else(
    session: Session, make_sdag: MakeSdag, make_run: Callable[..., DagRunModel]
) -> None:
    kept = make_run(make_sdag("kept"))
    gone = make_run(make_sdag("gone", tags=["x"]))
    for run in (kept, gone):
        key = TaskInstanceKey(run.dag_id, run.run_id, "extract")
        task_instances.transition(
            session=session, key=key, expected=None, target="success", by_user=True, values={"try_number": 1}
        )
        task_instances.archive_try(
            session=session, ti=task_instances.get_task_instance(session=session, key=key)
        )
        xcom.set_xcom(session=session, dag_id=run.dag_id, run_id=run.run_id, task_id="extract", value=1)
        dag_callbacks.request_dag_callback(session=session, dag_id=run.dag_id, run_id=run.run_id,
                                           callback=dag_callbacks.ON_FAILURE, reason="task_failure", now=NOW)

    assert delete_dag(session=session, dag_id="gone") == 1

    for model in (
        DagCallbackRequestModel,
        DagRunModel,
        TaskInstanceModel,
        TaskInstanceHistoryModel,
        XComModel,
        SerializedDagModel,
        DagTagModel,
    ):
        assert session.scalar(select(func.count()).select_from(model).where(model.dag_id == "gone")) == 0
    assert session.scalar(select(func.count()).select_from(TaskInstanceHistoryModel)) == 1
    assert session.scalar(select(func.count()).select_from(XComModel)) == 1
    assert session.scalar(select(func.count()).select_from(DagCallbackRequestModel)) == 1
    with pytest.raises(NotFoundError):
        get_dag(session=session, dag_id="gone")
    assert get_dag(session=session, dag_id="kept").dag_id == "kept"
    with pytest.raises(NotFoundError):
        delete_dag(session=session, dag_id="gone")


def test_set_next_dagrun(session: Session, make_sdag: MakeSdag) -> None:
    upsert_dag(session=session, sdag=make_sdag("etl"), paused_default=False, now=NOW)
    day = timedelta(days=1)
    info = DagRunInfo.interval(NOW, NOW + day)
    set_next_dagrun(session=session, dag_id="etl", info=info)
    session.expire_all()
    dag = get_dag(session=session, dag_id="etl")
    assert (dag.next_dagrun, dag.next_dagrun_data_interval_start, dag.next_dagrun_data_interval_end) == (
        NOW,
        NOW,
        NOW + day,
    )
    assert dag.next_dagrun_create_after == NOW + day
    set_next_dagrun(session=session, dag_id="etl", info=None)
    assert (dag.next_dagrun, dag.next_dagrun_create_after) == (None, None)
