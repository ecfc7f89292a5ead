"""Variables (set, list, import/export round trip) and pools (default pool, occupancy)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedDag
from tradewind.sdk.errors import ConflictError, NotFoundError, ParamValidationError
from tradewind.store import task_instances
from tradewind.store.pools import DEFAULT_POOL, delete_pool, get_pool, list_pools, pool_usage, set_pool
from tradewind.store.tables import DagRunModel
from tradewind.store.variables import (
    delete_variable,
    export_variables,
    get_variable,
    import_variables,
    list_variables,
    set_variable,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_variables_set_get_list_delete(session: Session) -> None:
    set_variable(session=session, key="b", value="2", description="two")
    set_variable(session=session, key="a", value="1")
    set_variable(session=session, key="b", value="22")
    row = get_variable(session=session, key="b")
    assert (row.val, row.description) == ("22", "two")
    rows, total = list_variables(session=session, limit=1, offset=1)
    assert ([r.key for r in rows], total) == (["b"], 2)
    delete_variable(session=session, key="a")
    with pytest.raises(NotFoundError, match="'a'"):
        get_variable(session=session, key="a")
    with pytest.raises(NotFoundError, match="'a'"):
        delete_variable(session=session, key="a")
    with pytest.raises(ParamValidationError):
        set_variable(session=session, key="", value="x")


def test_variables_export_and_import_round_trip_exactly(session: Session) -> None:
    originals = {
        "config": '{"retries": 3, "targets": ["a", "b"]}',
        "count": "42",
        "flag": "true",
        "greeting": "hello",
        "quoted": '"hello"',
        "spaced": " [1, 2]",
        "url": "https://example.com/?a=1",
    }
    assert import_variables(session=session, mapping=originals) == len(originals)
    exported = export_variables(session=session)
    assert exported["config"] == {"retries": 3, "targets": ["a", "b"]}
    assert exported["count"] == 42
    assert exported["greeting"] == "hello"
    for key in list(originals):
        delete_variable(session=session, key=key)
    import_variables(session=session, mapping=exported)
    assert {r.key: r.val for r in list_variables(session=session)[0]} == originals


def test_default_pool_exists_and_cannot_be_deleted(session: Session) -> None:
    assert get_pool(session=session, name=DEFAULT_POOL).slots == 128
    with pytest.raises(ConflictError, match=DEFAULT_POOL):
        delete_pool(session=session, name=DEFAULT_POOL)
    set_pool(session=session, name=DEFAULT_POOL, slots=4)
    assert get_pool(session=session, name=DEFAULT_POOL).slots == 4


def test_pools_set_delete_and_validation(session: Session) -> None:
    set_pool(session=session, name="gpu", slots=2, description="GPUs")
    set_pool(session=session, name="gpu", slots=3)
    pool = get_pool(session=session, name="gpu")
    assert (pool.slots, pool.description) == (3, "GPUs")
    with pytest.raises(ParamValidationError, match=r"'gpu'.*-1"):
        set_pool(session=session, name="gpu", slots=-1)
    delete_pool(session=session, name="gpu")
    with pytest.raises(NotFoundError, match="'gpu'"):
        delete_pool(session=session, name="gpu")


def test_pool_occupancy_counts_slots_of_queued_and_running_tries(
    session: Session, make_sdag: Callable[..., SerializedDag], make_run: Callable[..., DagRunModel]
) -> None:
    set_pool(session=session, name="gpu", slots=5)
    gpu = {"pool": "gpu", "pool_slots": 2}
    sdag = make_sdag(
        edges={"q": [], "r": [], "s": [], "done": [], "plain": []}, q=gpu, r=gpu, s=gpu, done=gpu
    )
    run = make_run(sdag)
    path = {"q": ["scheduled", "queued"], "r": ["scheduled", "queued", "running"], "s": ["scheduled"]}
    path["done"] = [*path["r"], "success"]
    path["plain"] = path["r"]
    for task_id, states in path.items():
        key = TaskInstanceKey("example", run.run_id, task_id)
        current = None
        for state in states:
            assert task_instances.transition(session=session, key=key, expected=current, target=state)
            current = state

    usage = {p.name: p for p in list_pools(session=session)}
    assert (usage["gpu"].queued, usage["gpu"].running, usage["gpu"].occupied, usage["gpu"].open) == (
        2,
        2,
        4,
        1,
    )
    assert (usage[DEFAULT_POOL].occupied, usage[DEFAULT_POOL].open) == (1, 127)
    assert pool_usage(session=session, name="gpu") == usage["gpu"]
