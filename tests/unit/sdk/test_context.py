"""The task context and ``ti``: values from the runner's plain data, XCom pull semantics, variables."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind.sdk.context import DagRunContext, RuntimeTaskInstance, build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import NotFoundError, ParamValidationError, TradewindError
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.params import Param
from tradewind.sdk.runtime import InMemoryRuntime, get_runtime

START = datetime(2024, 3, 5, tzinfo=UTC)


def make_context(**overrides: Any) -> dict[str, Any]:
    with DAG("d", params={"n": Param(1, type="integer")}) as dag:
        op = EmptyOperator(task_id="t", retries=2)
    args: dict[str, Any] = {
        "task": op,
        "run_id": "scheduled__x",
        "logical_date": START,
        "data_interval_start": START,
        "data_interval_end": START + timedelta(days=1),
        "run_type": "scheduled",
        "conf": {"extra": True},
        "try_number": 2,
    }
    args.update(overrides)
    context = build_context(**args)
    assert context["dag"] is dag
    return context


def test_date_values_follow_airflow_formats() -> None:
    context = make_context(logical_date=datetime(2024, 3, 5, 6, 7, 8))
    assert context["ds"] == "2024-03-05"
    assert context["ds_nodash"] == "20240305"
    assert context["ts"] == "2024-03-05T06:07:08+00:00"
    assert context["ts_nodash"] == "20240305T060708"
    assert context["ts_nodash_with_tz"] == "20240305T060708+0000"
    assert context["logical_date"].tzinfo is UTC
    assert context["data_interval_end"] == START + timedelta(days=1)


def test_ds_is_the_utc_date_of_the_logical_date() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2024, 3, 5, 0, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))  # 23:30 UTC the day before
    assert make_context(logical_date=local)["ds"] == "2024-03-04"


def test_run_task_and_identity_values() -> None:
    context = make_context(map_index=3)
    assert context["run_id"] == "scheduled__x"
    assert context["task"].task_id == "t"
    assert context["ti"] is context["task_instance"]
    ti = context["ti"]
    assert (ti.dag_id, ti.task_id, ti.run_id, ti.map_index, ti.try_number, ti.max_tries) == (
        "d",
        "t",
        "scheduled__x",
        3,
        2,
        2,
    )
    assert (context["map_index"], context["try_number"], context["test_mode"]) == (3, 2, False)
    dag_run = context["dag_run"]
    assert isinstance(dag_run, DagRunContext)
    assert (dag_run.run_id, dag_run.run_type, dag_run.conf) == ("scheduled__x", "scheduled", {"extra": True})
    assert dag_run.logical_date == START and not dag_run.external_trigger


def test_params_merge_dag_task_and_conf_and_are_validated() -> None:
    assert make_context()["params"] == {"n": 1, "extra": True}
    assert make_context(conf={"n": 5})["params"] == {"n": 5}
    with pytest.raises(ParamValidationError, match=r"param 'n'.*'x' is not of type 'integer'"):
        make_context(conf={"n": "x"})
    assert make_context(params={"given": 1})["params"] == {"given": 1}


def test_var_accessor_reads_variables(runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.set_variable("bucket", "b1")
    runtime.set_variable("cfg", '{"region": "eu"}')
    var = make_context()["var"]
    assert var.value.bucket == "b1"
    assert var.value["bucket"] == "b1"
    assert var.json.cfg == {"region": "eu"}
    assert var.value.get("missing", "fallback") == "fallback"
    monkeypatch.setenv("TRADEWIND_VAR_BUCKET", "from-env")
    assert var.value.bucket == "from-env"
    with pytest.raises(NotFoundError, match="variable 'missing' does not exist"):
        _ = var.value.missing


def push(
    runtime: InMemoryRuntime, task_id: str, value: Any, map_index: int = -1, key: str = "return_value"
) -> None:
    runtime.xcom_push(dag_id="d", run_id="r", task_id=task_id, map_index=map_index, key=key, value=value)


def ti_for(task_id: str = "me", map_index: int = -1) -> RuntimeTaskInstance:
    return RuntimeTaskInstance(
        task=EmptyOperator(task_id=task_id), dag_id="d", run_id="r", map_index=map_index
    )


def test_xcom_pull_of_one_task_gives_one_value(runtime: InMemoryRuntime) -> None:
    push(runtime, "up", {"a": 1})
    push(runtime, "up", "other", key="k")
    ti = ti_for()
    assert ti.xcom_pull(task_ids="up") == {"a": 1}
    assert ti.xcom_pull(task_ids="up", key="k") == "other"
    assert ti.xcom_pull(task_ids="nobody") is None
    assert ti.xcom_pull(task_ids="nobody", default="dflt") == "dflt"


def test_xcom_pull_of_a_mapped_task_gives_all_indexes_in_order(runtime: InMemoryRuntime) -> None:
    for i in (2, 0, 1):
        push(runtime, "mapped", i * 10, map_index=i)
    ti = ti_for()
    assert ti.xcom_pull(task_ids="mapped") == [0, 10, 20]
    assert ti.xcom_pull(task_ids="mapped", map_indexes=1) == 10
    assert ti.xcom_pull(task_ids="mapped", map_indexes=[2, 0]) == [20, 0]


def test_xcom_pull_of_several_tasks_gives_a_list(runtime: InMemoryRuntime) -> None:
    push(runtime, "a", 1)
    push(runtime, "b", 2)
    ti = ti_for()
    assert ti.xcom_pull(task_ids=["a", "b", "missing"]) == [1, 2]
    assert ti.xcom_pull(task_ids=["missing"], default=[]) == []


def test_xcom_push_and_pull_own_value(runtime: InMemoryRuntime) -> None:
    ti = ti_for("me", map_index=1)
    ti.xcom_push("progress", 50)
    assert ti.xcom_pull(key="progress") == 50  # task_ids=None: this task, at its own map index
    assert runtime.xcom_pull(dag_id="d", run_id="r", task_id="me", key="progress", map_index=1) == 50


def test_xcom_values_must_be_json(runtime: InMemoryRuntime) -> None:
    with pytest.raises(TradewindError, match="XCom 'bad' of task 'me' is not JSON-serialisable: object"):
        ti_for().xcom_push("bad", object())


def test_get_runtime_without_one_installed_explains(runtime: InMemoryRuntime) -> None:
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            get_runtime()
        except TradewindError as exc:
            errors.append(exc)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=10)
    assert get_runtime() is runtime  # installed here, not in a fresh thread's context
    assert len(errors) == 1 and "no task runtime is installed" in str(errors[0])
