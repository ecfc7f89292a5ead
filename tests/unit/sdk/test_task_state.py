"""The task state store as task code sees it (``task_state_store``), on the in-memory runtime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.unit.sdk.conftest import run_task
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import TaskStateValueError
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.task_state import NEVER_EXPIRE, TaskStateStore


def _store(map_index: int = -1, run_id: str = "manual__1") -> TaskStateStore:
    return TaskStateStore(dag_id="d", run_id=run_id, task_id="t", map_index=map_index)


def test_get_set_delete_clear(runtime: InMemoryRuntime) -> None:
    store = _store()
    assert store.get("job") is None
    assert store.get("job", default="none yet") == "none yet"
    store.set("job", "job-1")
    store.set("progress", {"done": [1, 2], "rows": 200})
    assert (store.get("job"), store.get("progress")) == ("job-1", {"done": [1, 2], "rows": 200})
    store.set("job", "job-2")
    assert store.get("job") == "job-2"
    store.delete("job")
    store.delete("never-set")
    assert store.get("job") is None and store.get("progress") is not None
    store.clear()
    assert store.get("progress") is None


def test_each_map_index_and_run_has_its_own_keys(runtime: InMemoryRuntime) -> None:
    _store(0).set("k", "zero")
    _store(1).set("k", "one")
    _store(run_id="manual__2").set("k", "other run")
    assert [_store(i).get("k") for i in (-1, 0, 1)] == [None, "zero", "one"]
    _store(0).clear()
    assert (_store(0).get("k"), _store(1).get("k")) == (None, "one")


@pytest.mark.parametrize("value", [None, {1, 2}, datetime(2026, 1, 1), float("nan")])
def test_values_that_cannot_be_stored_are_a_value_error_naming_the_key(
    runtime: InMemoryRuntime, value: Any
) -> None:
    with pytest.raises(TaskStateValueError, match="'job'") as caught:
        _store().set("job", value)
    assert isinstance(caught.value, ValueError)
    assert _store().get("job") is None


def test_retention_sets_when_a_value_expires(
    runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[datetime | None] = []
    original = runtime.set_task_state

    def record(**kwargs: Any) -> None:
        written.append(kwargs["expires_at"])
        original(**kwargs)

    monkeypatch.setattr(runtime, "set_task_state", record)
    before = datetime.now(UTC)
    _store().set("a", 1, retention=NEVER_EXPIRE)
    _store().set("b", 1, retention=timedelta(hours=6))
    _store().set("c", 1)
    assert written[0] is None
    assert written[1] is not None and written[2] is not None
    assert timedelta(hours=6) <= written[1] - before < timedelta(hours=6, minutes=1)
    assert timedelta(days=30) <= written[2] - before < timedelta(days=30, minutes=1)


def test_async_twins_read_and_write_the_same_keys(runtime: InMemoryRuntime) -> None:
    async def work(store: TaskStateStore) -> Any:
        await store.aset("progress", {"done": [1]}, retention=NEVER_EXPIRE)
        first = await store.aget("progress")
        await store.adelete("progress")
        missing = await store.aget("progress", default="gone")
        await store.aset("x", 1)
        await store.aclear()
        return first, missing, await store.aget("x")

    assert asyncio.run(work(_store())) == ({"done": [1]}, "gone", None)
    with pytest.raises(TaskStateValueError):
        asyncio.run(_store().aset("k", None))


def test_a_task_receives_its_store_by_argument_name_and_in_the_context(runtime: InMemoryRuntime) -> None:
    with DAG("stateful", schedule=None) as dag:

        @task
        def remember(n: int, task_state_store: Any = None, ti: Any = None) -> Any:
            seen = task_state_store.get("n")
            task_state_store.set("n", n)
            return [seen, ti.map_index]

        @task
        def by_context(**context: Any) -> Any:
            return context["task_state_store"].get("n", default="empty")

        @task
        async def async_remember(task_state_store: Any = None) -> Any:
            count = await task_state_store.aget("count", default=0)
            await task_state_store.aset("count", count + 1)
            return count

        remember.expand(n=[10, 20])
        by_context()
        async_remember()

    mapped = dag.get_task("remember")
    assert run_task(mapped, runtime, map_index=0) == [None, 0]
    assert run_task(mapped, runtime, map_index=1) == [None, 1]
    assert run_task(mapped, runtime, map_index=1) == [20, 1]  # a later try of index 1 reads its own value
    assert run_task(dag.get_task("by_context"), runtime) == "empty"
    assert [run_task(dag.get_task("async_remember"), runtime) for _ in range(2)] == [0, 1]
