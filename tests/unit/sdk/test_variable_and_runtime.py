"""Variables through the installed runtime, environment overrides, and the runtime switch itself."""

from __future__ import annotations

import pytest

from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.runtime import XCOM_ABSENT, InMemoryRuntime, get_runtime, set_runtime, use_runtime
from tradewind.sdk.variable import Variable


def test_get_set_delete(runtime: InMemoryRuntime) -> None:
    Variable.set("bucket", "data-eu", description="where files go")
    assert Variable.get("bucket") == "data-eu"
    assert runtime.descriptions["bucket"] == "where files go"
    Variable.delete("bucket")
    with pytest.raises(NotFoundError, match="variable 'bucket' does not exist") as info:
        Variable.get("bucket")
    assert info.value.ident == "bucket"
    assert Variable.get("bucket", default_var=None) is None
    assert Variable.get("bucket", "fallback") == "fallback"


def test_json_values(runtime: InMemoryRuntime) -> None:
    Variable.set("cfg", {"n": [1, 2]}, serialize_json=True)
    assert Variable.get("cfg", deserialize_json=True) == {"n": [1, 2]}
    Variable.set("number", 5)
    assert Variable.get("number") == "5"
    Variable.set("text", "not json")
    with pytest.raises(TradewindError, match="variable 'text' is not valid JSON"):
        Variable.get("text", deserialize_json=True)


def test_environment_overrides_the_stored_value(
    runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    Variable.set("my_key", "stored")
    monkeypatch.setenv("TRADEWIND_VAR_MY_KEY", '{"from": "env"}')
    assert Variable.get("my_key") == '{"from": "env"}'
    assert Variable.get("my_key", deserialize_json=True) == {"from": "env"}
    monkeypatch.setenv("TRADEWIND_VAR_ONLY_ENV", "x")
    assert Variable.get("only_env") == "x"


def test_setdefault_stores_once(runtime: InMemoryRuntime) -> None:
    assert Variable.setdefault("k", "first") == "first"
    assert Variable.setdefault("k", "second") == "first"


def test_without_a_runtime_the_error_says_what_to_do() -> None:
    with pytest.raises(TradewindError, match="no task runtime is installed"):
        Variable.get("anything")


def test_set_runtime_installs_and_removes() -> None:
    rt = InMemoryRuntime({"a": "1"})
    set_runtime(rt)
    try:
        assert get_runtime() is rt
        assert Variable.get("a") == "1"
    finally:
        set_runtime(None)
    with pytest.raises(TradewindError):
        get_runtime()


def test_use_runtime_nests_and_restores() -> None:
    outer, inner = InMemoryRuntime(), InMemoryRuntime()
    with use_runtime(outer):
        with use_runtime(inner):
            assert get_runtime() is inner
        assert get_runtime() is outer


def test_in_memory_xcoms_round_trip_through_json() -> None:
    rt = InMemoryRuntime()
    rt.xcom_push(dag_id="d", run_id="r", task_id="t", map_index=-1, key="k", value=(1, "a"))
    assert rt.xcom_pull(dag_id="d", run_id="r", task_id="t", key="k", map_index=None) == [1, "a"]
    assert rt.xcom_pull(dag_id="d", run_id="r", task_id="t", key="nope", map_index=None) is XCOM_ABSENT
    assert rt.xcom_pull(dag_id="d", run_id="r", task_id="t", key="k", map_index=0) is XCOM_ABSENT
    rt.clear_xcoms(dag_id="d", run_id="r", task_id="t")
    assert rt.xcom_pull(dag_id="d", run_id="r", task_id="t", key="k", map_index=None) is XCOM_ABSENT


def test_in_memory_skips_are_recorded_once() -> None:
    rt = InMemoryRuntime()
    rt.skip_tasks(dag_id="d", run_id="r", task_ids=["a", "b"])
    rt.skip_tasks(dag_id="d", run_id="r", task_ids=["b", "c"])
    assert rt.skipped == {("d", "r"): ["a", "b", "c"]}
