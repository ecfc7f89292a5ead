"""Clearing an ExternalTaskMarker clears the marked task (and its downstream) in the other DAG's run at the
same logical date, following markers up to their recursion depth."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.unit.store.conftest import NOW, MakeRun, MakeSdag

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import TaskInstanceState
from tradewind.sdk.errors import TradewindError
from tradewind.store import task_instances
from tradewind.store.task_instances import clear_task_instances


def marker(dag_id: str, task_id: str, depth: int = 10) -> dict[str, object]:
    return {"external_marker": {"dag_id": dag_id, "task_id": task_id, "recursion_depth": depth}}


def finish_all(session: Session, dag_id: str, run_id: str) -> None:
    tis, _ = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=run_id)
    for ti in tis:
        ti.state, ti.try_number = TaskInstanceState.SUCCESS.value, 1
    session.flush()


def state_of(session: Session, dag_id: str, run_id: str, task_id: str) -> str | None:
    key = TaskInstanceKey(dag_id, run_id, task_id)
    return task_instances.get_task_instance(session=session, key=key).state


def test_clearing_a_marker_clears_across_dags_at_the_same_logical_date(
    session: Session, make_run: MakeRun, make_sdag: MakeSdag
) -> None:
    parent = make_sdag("parent", {"load": ["mark"], "mark": []}, mark=marker("child", "wait"))
    child = make_sdag("child", {"first": ["wait"], "wait": ["use"], "use": []})
    parent_run, child_run = make_run(parent), make_run(child)
    other_child_run = make_run(child, logical_date=NOW.replace(year=2025))
    for dag_id, run in (("parent", parent_run), ("child", child_run), ("child", other_child_run)):
        finish_all(session, dag_id, run.run_id)

    cleared = clear_task_instances(
        session=session, dag_id="parent", run_id=parent_run.run_id, task_ids=["load"], include_downstream=True,
        sdag=parent, now=NOW,
    )  # fmt: skip

    assert {(k.dag_id, k.task_id) for k in cleared} == {
        ("parent", "load"), ("parent", "mark"), ("child", "wait"), ("child", "use"),
    }  # fmt: skip
    assert state_of(session, "child", child_run.run_id, "first") == TaskInstanceState.SUCCESS
    assert state_of(session, "child", child_run.run_id, "wait") is None
    assert state_of(session, "child", other_child_run.run_id, "wait") == TaskInstanceState.SUCCESS


def test_a_cycle_of_markers_stops_at_the_recursion_depth(
    session: Session, make_run: MakeRun, make_sdag: MakeSdag
) -> None:
    ping = make_sdag("ping", {"m": []}, m=marker("pong", "m", depth=3))
    pong = make_sdag("pong", {"m": []}, m=marker("ping", "m", depth=3))
    ping_run = make_run(ping)
    make_run(pong)
    with pytest.raises(TradewindError, match="recursion_depth of 3"):
        clear_task_instances(
            session=session, dag_id="ping", run_id=ping_run.run_id, task_ids=["m"], include_downstream=False,
            sdag=ping, now=NOW,
        )  # fmt: skip
