"""The scheduler's planning of mapped task groups and of zip/concat expansions, with a frozen clock, a real
database and an executor twin: per map index, downstream of the group waiting for every instance."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import act_as_runner, states, trigger
from tests.unit.scheduler.twins import RecordingExecutor, make_dag, store_dag
from tradewind.core.clock import FrozenClock
from tradewind.core.serialized_dag import SerializedTaskGroup
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.scheduler.tick import Scheduler
from tradewind.store import task_instances

SOURCE = {"kind": "xcom", "task_id": "source"}


def _group_dag(dag_id: str, expand: dict[str, Any]) -> Any:
    sdag = make_dag(
        dag_id,
        {"source": ["g.first"], "g.first": ["g.second"], "g.second": ["after"]},
        tasks={
            **{t: {"task_group": "g", "mapped_group": "g"} for t in ("g.first", "g.second")},
            "after": {"trigger_rule": "all_done"},
        },
    )
    sdag.task_groups = {
        "g": SerializedTaskGroup(group_id="g", children=["g.first", "g.second"], expand=expand)
    }
    return sdag


def _map_states(sessions: sessionmaker[Session], dag_id: str, run_id: str) -> dict[tuple[str, int], Any]:
    with sessions() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=run_id)
        return {(ti.task_id, ti.map_index): ti.state for ti in tis}


def test_each_group_instance_is_planned_on_its_own(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, _group_dag("grp", {"x": SOURCE}))
    run_id = trigger(sessions, "grp")
    scheduler.tick(clock.now())
    [source] = executor.take()
    act_as_runner(sessions, source, TaskInstanceState.SUCCESS, returns=["a", "b", "c"])
    scheduler.tick(clock.now())
    first = {w.map_index: w for w in executor.take()}
    assert sorted(first) == [0, 1, 2] and {w.task_id for w in first.values()} == {"g.first"}
    assert _map_states(sessions, "grp", run_id)[("g.second", 2)] is None  # expanded, waiting on its index
    act_as_runner(sessions, first[0], TaskInstanceState.SUCCESS)
    act_as_runner(sessions, first[1], TaskInstanceState.FAILED)
    scheduler.tick(clock.now())
    [second] = executor.take()
    assert (second.task_id, second.map_index) == ("g.second", 0)
    assert _map_states(sessions, "grp", run_id)[("g.second", 1)] == TaskInstanceState.UPSTREAM_FAILED
    assert states(sessions, "grp", run_id)["after"] is None  # waits for every instance of the group
    act_as_runner(sessions, second, TaskInstanceState.SUCCESS)
    act_as_runner(sessions, first[2], TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    [last] = executor.take()
    assert (last.task_id, last.map_index) == ("g.second", 2)
    act_as_runner(sessions, last, TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    [after] = executor.take()
    assert (after.task_id, after.map_index) == ("after", -1)


def test_a_group_over_nothing_is_skipped_and_a_bad_value_fails_it(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, _group_dag("empty", {"x": {"kind": "literal", "value": []}}))
    store_dag(sessions, _group_dag("bad", {"x": SOURCE}))
    empty_run, bad_run = trigger(sessions, "empty"), trigger(sessions, "bad")
    scheduler.tick(clock.now())
    for w in executor.take():
        act_as_runner(sessions, w, TaskInstanceState.SUCCESS, returns=5 if w.dag_id == "bad" else None)
    scheduler.tick(clock.now())
    scheduler.tick(clock.now())
    assert _map_states(sessions, "empty", empty_run)[("g.first", -1)] == TaskInstanceState.SKIPPED
    bad = _map_states(sessions, "bad", bad_run)
    assert bad[("g.first", -1)] == bad[("g.second", -1)] == TaskInstanceState.UPSTREAM_FAILED
    with sessions() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id="bad", run_id=bad_run)
        reason = next(ti.state_reason for ti in tis if ti.task_id == "g.first")
    assert reason is not None and "only lists and dicts" in reason


def test_zip_and_concat_expansions_are_counted(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    other = {"kind": "xcom", "task_id": "other"}
    sdag = make_dag("tr", {"source": ["zipped", "chained"], "other": ["zipped", "chained"]}, tasks={
        "zipped": {"expand": {"x": {"kind": "zip", "args": [SOURCE, other]}}},
        "chained": {"expand": {"x": {"kind": "concat", "args": [SOURCE, {"kind": "map", "args": [other]}]}}},
    })  # fmt: skip
    store_dag(sessions, sdag)
    run_id = trigger(sessions, "tr")
    scheduler.tick(clock.now())
    for w in executor.take():
        act_as_runner(
            sessions, w, TaskInstanceState.SUCCESS, returns=[1, 2, 3] if w.task_id == "source" else ["a", "b"]
        )
    scheduler.tick(clock.now())
    queued = executor.take()
    assert sorted((w.task_id, w.map_index) for w in queued if w.task_id == "zipped") == [
        ("zipped", 0), ("zipped", 1),
    ]  # fmt: skip
    assert len([w for w in queued if w.task_id == "chained"]) == 5
    for w in queued:
        act_as_runner(sessions, w, TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    with sessions() as session:
        from tradewind.store import dag_runs

        assert dag_runs.get_dag_run(session=session, dag_id="tr", run_id=run_id).state == DagRunState.SUCCESS
