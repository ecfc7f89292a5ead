"""Task instances: creation, compare-and-set transitions, heartbeats, marking, tries and clearing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.sdk.errors import InvalidTransitionError, NotFoundError, TradewindError
from tradewind.sdk.schedules import DataInterval
from tradewind.store import dag_runs, dags, xcom
from tradewind.store.engine import transaction
from tradewind.store.tables import DagRunModel, TaskInstanceModel
from tradewind.store.task_instances import (
    archive_try,
    clear_task_instances,
    create_task_instances,
    get_task_instance,
    heartbeat,
    list_task_instances,
    list_tries,
    mark_task_instance,
    transition,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
MakeSdag = Callable[..., SerializedDag]
MakeRun = Callable[..., DagRunModel]


def _key(run_id: str, task_id: str, dag_id: str = "example") -> TaskInstanceKey:
    return TaskInstanceKey(dag_id, run_id, task_id)


def _walk(
    session: Session, key: TaskInstanceKey, *states: TaskInstanceState | None, try_number: int = 1
) -> None:
    """Move a task instance along a path of states the way scheduler and runner do."""
    current = get_task_instance(session=session, key=key)
    state = TaskInstanceState(current.state) if current.state else None
    for target in states:
        values = {"try_number": try_number} if target is TaskInstanceState.QUEUED else {}
        assert transition(session=session, key=key, expected=state, target=target, values=values)
        state = target


def test_create_copies_task_settings(session: Session, make_run: MakeRun, make_sdag: MakeSdag) -> None:
    sdag = make_sdag(
        edges={"a": ["b"], "b": []},
        retries={"b": 3},
        b={"pool": "gpu", "pool_slots": 2, "queue": "heavy", "priority_weight": 7},
    )
    run = make_run(sdag)
    tis, total = list_task_instances(session=session, dag_id="example", run_id=run.run_id)
    assert total == 2
    by_id = {ti.task_id: ti for ti in tis}
    b = by_id["b"]
    assert (b.state, b.map_index, b.try_number, b.max_tries) == (None, -1, 0, 3)
    assert (b.operator, b.pool, b.pool_slots, b.queue, b.priority_weight) == (
        "BashOperator",
        "gpu",
        2,
        "heavy",
        7,
    )
    assert by_id["a"].pool == "default_pool"
    # Creating again adds nothing (runs are re-examined after a DAG changes).
    assert create_task_instances(session=session, run=run, sdag=sdag) == []


def test_transition_is_compare_and_set(session: Session, make_run: MakeRun) -> None:
    run = make_run()
    key = _key(run.run_id, "extract")
    assert transition(
        session=session,
        key=key,
        expected=None,
        target=TaskInstanceState.SCHEDULED,
        values={"scheduled_at": NOW},
    )
    ti = get_task_instance(session=session, key=key)
    assert (ti.state, ti.scheduled_at) == ("scheduled", NOW)
    # Stale expectation: another process already moved it.
    assert not transition(session=session, key=key, expected=None, target=TaskInstanceState.SCHEDULED)
    assert transition(
        session=session,
        key=key,
        expected=TaskInstanceState.SCHEDULED,
        target=TaskInstanceState.QUEUED,
        values={"try_number": 1},
    )
    # Wrong try number: the runner of an older try must not take the row.
    assert not transition(
        session=session,
        key=key,
        expected=TaskInstanceState.QUEUED,
        target=TaskInstanceState.RUNNING,
        try_number=2,
    )
    assert get_task_instance(session=session, key=key).state == "queued"
    assert transition(
        session=session,
        key=key,
        expected=TaskInstanceState.QUEUED,
        target=TaskInstanceState.RUNNING,
        try_number=1,
    )
    assert get_task_instance(session=session, key=key).state == "running"


def test_transition_accepts_a_set_of_expected_states_including_none(
    session: Session, make_run: MakeRun
) -> None:
    run = make_run()
    key = _key(run.run_id, "load")
    assert transition(
        session=session,
        key=key,
        expected={None, TaskInstanceState.SCHEDULED},
        target=TaskInstanceState.UPSTREAM_FAILED,
    )
    assert get_task_instance(session=session, key=key).state == "upstream_failed"
    assert not transition(
        session=session,
        key=key,
        expected={None, TaskInstanceState.SCHEDULED},
        target=TaskInstanceState.SKIPPED,
    )


def test_transition_refuses_what_the_transitions_table_forbids(session: Session, make_run: MakeRun) -> None:
    run = make_run()
    key = _key(run.run_id, "extract")
    with pytest.raises(InvalidTransitionError, match="none to running"):
        transition(session=session, key=key, expected=None, target=TaskInstanceState.RUNNING)
    # A user may mark success from any state.
    assert transition(session=session, key=key, expected=None, target=TaskInstanceState.SUCCESS, by_user=True)
    with pytest.raises(TradewindError, match="dag_id"):
        transition(
            session=session,
            key=key,
            expected=TaskInstanceState.SUCCESS,
            target=None,
            values={"dag_id": "other"},
        )


def test_two_writers_racing_for_one_task_instance_only_one_wins(
    migrated_engine: Engine, factory: sessionmaker[Session], make_sdag: MakeSdag
) -> None:
    sdag = make_sdag()
    with transaction(factory) as session:
        dags.upsert_dag(session=session, sdag=sdag, paused_default=False, now=NOW)
        run = dag_runs.create_dag_run(
            session=session,
            dag_id="example",
            run_id="r1",
            run_type="manual",
            logical_date=NOW,
            data_interval=DataInterval(NOW, NOW),
            now=NOW,
        )
        create_task_instances(session=session, run=run, sdag=sdag)
        key = _key("r1", "extract")
        _walk(session, key, TaskInstanceState.SCHEDULED, TaskInstanceState.QUEUED)

    results: list[bool] = []

    def second_writer() -> None:
        with transaction(factory) as other:
            results.append(
                transition(
                    session=other,
                    key=key,
                    expected=TaskInstanceState.QUEUED,
                    target=TaskInstanceState.RUNNING,
                    try_number=1,
                )
            )

    with transaction(factory) as first:
        results.append(
            transition(
                session=first,
                key=key,
                expected=TaskInstanceState.QUEUED,
                target=TaskInstanceState.RUNNING,
                try_number=1,
            )
        )
        thread = threading.Thread(target=second_writer)
        thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert sorted(results) == [False, True]


def test_heartbeat_tells_a_runner_whether_its_try_still_runs(session: Session, make_run: MakeRun) -> None:
    run = make_run()
    key = _key(run.run_id, "extract")
    _walk(session, key, TaskInstanceState.SCHEDULED, TaskInstanceState.QUEUED, TaskInstanceState.RUNNING)
    later = NOW + timedelta(seconds=30)
    assert heartbeat(session=session, key=key, try_number=1, now=later)
    assert get_task_instance(session=session, key=key).last_heartbeat_at == later
    assert not heartbeat(session=session, key=key, try_number=2, now=later)
    assert transition(session=session, key=key, expected=TaskInstanceState.RUNNING, target=None, by_user=True)
    assert not heartbeat(session=session, key=key, try_number=1, now=later)


def test_mark_task_instance_sets_state_and_end_date(session: Session, make_run: MakeRun) -> None:
    run = make_run()
    key = _key(run.run_id, "load")
    assert mark_task_instance(session=session, key=key, state=TaskInstanceState.FAILED, now=NOW)
    ti = get_task_instance(session=session, key=key)
    assert (ti.state, ti.end_date, ti.start_date) == ("failed", NOW, NOW)
    assert not mark_task_instance(session=session, key=key, state=TaskInstanceState.FAILED, now=NOW)
    with pytest.raises(NotFoundError, match="nope"):
        mark_task_instance(
            session=session, key=_key(run.run_id, "nope"), state=TaskInstanceState.SUCCESS, now=NOW
        )


def test_list_filters_by_state_including_none_and_pages(
    session: Session, make_run: MakeRun, make_sdag: MakeSdag
) -> None:
    run = make_run(make_sdag(edges={"a": [], "b": [], "c": [], "d": []}))
    transition(session=session, key=_key(run.run_id, "b"), expected=None, target=TaskInstanceState.SCHEDULED)
    rows, total = list_task_instances(session=session, run_id=run.run_id, states=[None])
    assert ([r.task_id for r in rows], total) == (["a", "c", "d"], 3)
    rows, total = list_task_instances(
        session=session, run_id=run.run_id, states=[None, TaskInstanceState.SCHEDULED], limit=2, offset=1
    )
    assert ([r.task_id for r in rows], total) == (["b", "c"], 4)
    rows, total = list_task_instances(session=session, task_ids=["d"])
    assert ([r.task_id for r in rows], total) == (["d"], 1)


def test_archive_try_is_idempotent_and_list_tries_shows_every_try(
    session: Session, make_run: MakeRun
) -> None:
    run = make_run()
    key = _key(run.run_id, "extract")
    _walk(
        session,
        key,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.UP_FOR_RETRY,
    )
    ti = get_task_instance(session=session, key=key)
    assert archive_try(session=session, ti=ti)
    assert not archive_try(session=session, ti=ti)
    _walk(
        session,
        key,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.SUCCESS,
        try_number=2,
    )
    tries = list_tries(session=session, key=key)
    assert [(t.try_number, t.state, t.is_current) for t in tries] == [
        (1, "up_for_retry", False),
        (2, "success", True),
    ]
    with pytest.raises(NotFoundError):
        list_tries(session=session, key=_key(run.run_id, "nope"))


def test_clear_gives_tasks_their_retries_again_and_requeues_the_run(
    session: Session, make_run: MakeRun, make_sdag: MakeSdag
) -> None:
    sdag = make_sdag(edges={"a": ["b"], "b": ["c"], "c": []}, retries={"b": 1})
    run = make_run(sdag, state="running")
    a, b, c = (_key(run.run_id, t) for t in "abc")
    _walk(
        session,
        a,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.SUCCESS,
    )
    _walk(
        session,
        b,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.FAILED,
        try_number=2,
    )
    _walk(session, c, TaskInstanceState.UPSTREAM_FAILED)
    for task_id in "ab":
        xcom.set_xcom(session=session, dag_id="example", run_id=run.run_id, task_id=task_id, value=task_id)
    assert dag_runs.set_dag_run_state(
        session=session, dag_id="example", run_id=run.run_id, expected="running", target="failed", now=NOW
    )

    later = NOW + timedelta(hours=1)
    cleared = clear_task_instances(
        session=session,
        dag_id="example",
        run_id=run.run_id,
        task_ids=["b"],
        include_downstream=True,
        sdag=sdag,
        now=later,
    )

    assert sorted(cleared) == sorted([b, c])
    tb = get_task_instance(session=session, key=b)
    assert (tb.state, tb.try_number, tb.max_tries, tb.end_date) == (None, 2, 3, None)
    assert [(t.try_number, t.state) for t in list_tries(session=session, key=b)] == [(2, "failed")]
    assert get_task_instance(session=session, key=c).state is None
    assert get_task_instance(session=session, key=a).state == "success"
    assert xcom.get_xcom(session=session, dag_id="example", run_id=run.run_id, task_id="a") == "a"
    assert xcom.get_xcom(session=session, dag_id="example", run_id=run.run_id, task_id="b") is None
    refreshed = dag_runs.get_dag_run(session=session, dag_id="example", run_id=run.run_id)
    assert (refreshed.state, refreshed.end_date, refreshed.queued_at) == (DagRunState.QUEUED, None, later)


def test_clear_without_downstream_and_of_an_unknown_task(
    session: Session, make_run: MakeRun, make_sdag: MakeSdag
) -> None:
    sdag = make_sdag(edges={"a": ["b"], "b": []})
    run = make_run(sdag)
    _walk(
        session,
        _key(run.run_id, "a"),
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.SUCCESS,
    )
    _walk(
        session,
        _key(run.run_id, "b"),
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.SUCCESS,
    )
    cleared = clear_task_instances(
        session=session,
        dag_id="example",
        run_id=run.run_id,
        task_ids=["a"],
        include_downstream=False,
        sdag=sdag,
        now=NOW,
    )
    assert cleared == [_key(run.run_id, "a")]
    assert get_task_instance(session=session, key=_key(run.run_id, "b")).state == "success"
    with pytest.raises(NotFoundError, match="zzz"):
        clear_task_instances(
            session=session,
            dag_id="example",
            run_id=run.run_id,
            task_ids=["zzz"],
            include_downstream=False,
            sdag=sdag,
            now=NOW,
        )


def test_transition_values_may_be_sql_expressions(session: Session, make_run: MakeRun) -> None:
    run = make_run()
    key = _key(run.run_id, "extract")
    ti = get_task_instance(session=session, key=key)
    assert transition(session=session, key=key, expected=None, target=TaskInstanceState.SCHEDULED)
    # The scheduler increments the try number in the same statement that queues the try.
    assert transition(
        session=session,
        key=key,
        expected=TaskInstanceState.SCHEDULED,
        target=TaskInstanceState.QUEUED,
        values={"try_number": TaskInstanceModel.try_number + 1, "queued_at": NOW},
    )
    assert (ti.state, ti.try_number, ti.queued_at) == ("queued", 1, NOW)


def test_rows_of_many_keys_come_back_by_key_and_missing_ones_are_absent(
    session: Session, make_run: MakeRun, make_sdag: MakeSdag
) -> None:
    from tradewind.store.scheduling import get_task_instance_rows

    run = make_run(make_sdag(edges={f"t{i}": [] for i in range(250)}))
    wanted = [_key(run.run_id, f"t{i}") for i in range(250)]
    missing = _key(run.run_id, "nope")
    rows = get_task_instance_rows(session=session, keys=[*wanted, missing, wanted[0]])
    assert set(rows) == set(wanted)  # over more than one chunk of 200; duplicates and unknown keys fine
    assert all(rows[k].task_id == k.task_id for k in wanted)
    assert get_task_instance_rows(session=session, keys=[]) == {}
