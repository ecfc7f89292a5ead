"""TaskFlow: @task and its variants, XComArgs as arguments, ids like Airflow's, and @dag."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import dag, task
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.operators.decorated import _PythonDecoratedOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.params import Param
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.xcom_arg import XComArg

from .conftest import run_task, xcom


class Pair(TypedDict):
    left: int
    right: int


def test_calling_a_task_adds_an_operator_and_returns_its_xcomarg() -> None:
    @task
    def extract() -> int:
        return 1

    with DAG("d") as d:
        out = extract()
    assert isinstance(out, XComArg)
    assert isinstance(out.operator, _PythonDecoratedOperator)
    assert d.task_ids == ["extract"]


def test_the_same_function_twice_gets_airflow_suffixes() -> None:
    @task
    def f() -> None:
        pass

    with DAG("d") as d:
        f()
        f()
        f()
    assert d.task_ids == ["f", "f__1", "f__2"]


def test_xcomargs_nested_in_arguments_become_dependencies_and_values(runtime: InMemoryRuntime) -> None:
    @task
    def number(n: int) -> int:
        return n

    @task
    def combine(items: list[int], mapping: dict[str, int], scale: int = 1) -> int:
        return (sum(items) + mapping["k"]) * scale

    with DAG("d") as d:
        a, b, c = number(1), number(2), number(3)
        total = combine([a, b], {"k": c}, scale=10)
    op = total.operator
    assert op.upstream_task_ids == {"number", "number__1", "number__2"}
    for t in ("number", "number__1", "number__2"):
        run_task(d.get_task(t), runtime)
    assert run_task(op, runtime) == 60
    assert xcom(runtime, "d", "combine") == 60


def test_context_values_are_passed_by_name(runtime: InMemoryRuntime) -> None:
    seen: dict[str, Any] = {}

    @task
    def inspect_context(x: int, ds: str | None = None, ti: Any = None, params: Any = None) -> None:
        seen.update(x=x, ds=ds, task_id=ti.task_id, params=params)

    @task
    def everything(**context: Any) -> None:
        seen["keys"] = set(context)

    with DAG("d", params={"p": 1}) as d:
        inspect_context(5)
        everything()
    run_task(d.get_task("inspect_context"), runtime)
    run_task(d.get_task("everything"), runtime)
    assert seen["x"] == 5 and seen["ds"] == "2024-03-05" and seen["task_id"] == "inspect_context"
    assert seen["params"] == {"p": 1}
    assert {"ds", "ti", "params", "dag_run", "logical_date", "var", "macros"} <= seen["keys"]


def test_multiple_outputs_are_inferred_from_a_dict_return_type(runtime: InMemoryRuntime) -> None:
    @task
    def split() -> dict[str, int]:
        return {"left": 1, "right": 2}

    @task
    def typed() -> Pair:
        return {"left": 3, "right": 4}

    @task
    def add(a: int, b: int) -> int:
        return a + b

    with DAG("d") as d:
        parts = split()
        total = add(parts["left"], parts["right"])
        typed()
    assert parts.operator.multiple_outputs and d.get_task("typed").multiple_outputs
    run_task(parts.operator, runtime)
    assert xcom(runtime, "d", "split", "left") == 1
    assert run_task(total.operator, runtime) == 3


def test_multiple_outputs_must_return_a_dict(runtime: InMemoryRuntime) -> None:
    @task(multiple_outputs=True)
    def wrong() -> Any:
        return [1]

    with DAG("d"):
        out = wrong()
    with pytest.raises(TaskExecutionError, match="multiple_outputs=True but returned list"):
        run_task(out.operator, runtime)


def test_task_options_and_override() -> None:
    @task(task_id="renamed", retries=4, queue="gpu")
    def work() -> None:
        pass

    with DAG("d"):
        first = work()
        second = work.override(task_id="other", retries=1)()
    assert (first.operator.task_id, first.operator.retries, first.operator.queue) == ("renamed", 4, "gpu")
    assert (second.operator.task_id, second.operator.retries, second.operator.queue) == ("other", 1, "gpu")


def test_wrong_call_arguments_name_the_task() -> None:
    @task
    def one(a: int) -> None:
        pass

    with DAG("d"), pytest.raises(DagDefinitionError, match=r"task 'one'.*unexpected keyword argument 'b'"):
        one(a=1, b=2)


def test_branch_skips_direct_downstream_not_followed(runtime: InMemoryRuntime) -> None:
    @task.branch
    def choose() -> str:
        return "left"

    with DAG("d") as d:
        branch = choose()
        left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
        join = EmptyOperator(task_id="join")
        branch >> [left, right]
        left >> join
        branch >> join
    assert run_task(branch.operator, runtime) == "left"
    assert runtime.skipped[("d", "manual__1")] == ["right"]
    assert d.get_task("join") is join


def test_short_circuit_skips_descendants_when_falsy(runtime: InMemoryRuntime) -> None:
    @task.short_circuit
    def gate() -> bool:
        return False

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def soft_gate() -> bool:
        return False

    with DAG("d"):
        hard = gate()
        hard >> EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
        soft = soft_gate()
        soft >> EmptyOperator(task_id="c") >> EmptyOperator(task_id="e")
    run_task(hard.operator, runtime)
    run_task(soft.operator, runtime)
    assert runtime.skipped[("d", "manual__1")] == ["a", "b", "c"]


def test_task_bash_runs_the_returned_command_after_rendering(runtime: InMemoryRuntime) -> None:
    @task.bash
    def greet(name: str) -> str:
        return "echo hello " + name + " {{ ds }}"

    with DAG("d"):
        out = greet("ana")
    assert run_task(out.operator, runtime) == "hello ana 2024-03-05"


def test_task_bash_must_return_a_command(runtime: InMemoryRuntime) -> None:
    @task.bash
    def nothing() -> str:
        return "  "

    with DAG("d"):
        out = nothing()
    with pytest.raises(TaskExecutionError, match="must return a non-empty string"):
        run_task(out.operator, runtime)


def test_dag_decorator_builds_the_dag_with_params(runtime: InMemoryRuntime) -> None:
    @task
    def show(value: int) -> int:
        return value * 2

    @dag(schedule="@daily", start_date=datetime(2024, 1, 1), tags=["t"])
    def my_pipeline(size: int = 3, mode: Any = Param("fast", enum=["fast", "slow"])) -> None:
        """Doubles the size."""
        show(size)

    built = my_pipeline()
    assert isinstance(built, DAG)
    assert built.dag_id == "my_pipeline" and built.tags == ["t"] and built.doc_md == "Doubles the size."
    assert built.params["size"] == Param(3)
    assert built.params["mode"].schema == {"enum": ["fast", "slow"]}
    assert run_task(built.get_task("show"), runtime) == 6
    assert run_task(built.get_task("show"), runtime, conf={"size": 5}) == 10
    overridden = my_pipeline(size=7)
    assert overridden.params["size"] == Param(7)


def test_dag_decorator_with_an_explicit_id() -> None:
    @dag("named", schedule=None)
    def whatever() -> None:
        EmptyOperator(task_id="only")

    assert whatever().dag_id == "named"
