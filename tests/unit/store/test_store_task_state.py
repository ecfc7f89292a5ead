"""The task state store's table: one namespace per task instance, kept across a clear, gone with its DAG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.unit.store.conftest import MakeRun, MakeSdag

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import TaskInstanceState
from tradewind.store.dags import delete_dag
from tradewind.store.tables import TaskStateModel
from tradewind.store.task_instances import clear_task_instances, transition
from tradewind.store.task_state import (
    TaskScope,
    clear_task_state,
    delete_task_state,
    get_task_state,
    set_task_state,
)

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
SCOPE = TaskScope("etl", "r1", "load")


def test_set_replaces_get_reads_and_delete_removes(session: Session) -> None:
    assert get_task_state(session=session, scope=SCOPE, key="job") is None
    set_task_state(session=session, scope=SCOPE, key="job", value="job-1", expires_at=None)
    set_task_state(session=session, scope=SCOPE, key="job", value={"id": 2}, expires_at=NOW, now=NOW)
    set_task_state(session=session, scope=SCOPE, key="rows", value=[1, 2.5, True], expires_at=None)
    assert get_task_state(session=session, scope=SCOPE, key="job") == {"id": 2}
    row = session.scalars(select(TaskStateModel).where(TaskStateModel.key == "job")).one()
    assert (row.updated_at, row.expires_at) == (NOW, NOW)
    assert get_task_state(session=session, scope=SCOPE, key="rows") == [1, 2.5, True]
    delete_task_state(session=session, scope=SCOPE, key="job")
    assert get_task_state(session=session, scope=SCOPE, key="job") is None
    assert get_task_state(session=session, scope=SCOPE, key="rows") == [1, 2.5, True]


def test_map_indexes_tasks_and_runs_are_separate_namespaces(session: Session) -> None:
    scopes = [
        SCOPE,
        TaskScope("etl", "r1", "load", 0),
        TaskScope("etl", "r1", "load", 1),
        TaskScope("etl", "r2", "load"),
        TaskScope("etl", "r1", "extract"),
    ]
    for number, scope in enumerate(scopes):
        set_task_state(session=session, scope=scope, key="k", value=number, expires_at=None)
    assert [get_task_state(session=session, scope=s, key="k") for s in scopes] == [0, 1, 2, 3, 4]
    clear_task_state(session=session, scope=scopes[1])
    assert [get_task_state(session=session, scope=s, key="k") for s in scopes] == [0, None, 2, 3, 4]


def test_clearing_a_task_instance_keeps_its_state_and_deleting_the_dag_removes_it(
    session: Session, make_sdag: MakeSdag, make_run: MakeRun
) -> None:
    sdag = make_sdag("etl", {"load": []}, retries={"load": 1})
    run = make_run(sdag)
    key = TaskInstanceKey("etl", run.run_id, "load")
    scope = TaskScope("etl", run.run_id, "load")
    set_task_state(session=session, scope=scope, key="job", value="job-1", expires_at=None)
    assert transition(session=session, key=key, expected=None, target=TaskInstanceState.FAILED, by_user=True)

    cleared = clear_task_instances(
        session=session,
        dag_id="etl",
        run_id=run.run_id,
        task_ids=["load"],
        include_downstream=False,
        sdag=sdag,
        now=NOW + timedelta(hours=1),
    )

    assert cleared == [key]
    assert get_task_state(session=session, scope=scope, key="job") == "job-1"
    delete_dag(session=session, dag_id="etl")
    assert get_task_state(session=session, scope=scope, key="job") is None
