"""Dynamic task mapping: partial/expand on operators and @task, unmap, and the expansion arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.mapped import MappedOperator, expansion_length, resolve_expand_args
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.taskgroup import TaskGroup

from .conftest import run_task, xcom


def test_operator_partial_expand_over_a_literal_list(runtime: InMemoryRuntime) -> None:
    with DAG("d", default_args={"retries": 2}) as d:
        mapped = BashOperator.partial(task_id="echo", env={"X": "1"}, append_env=True).expand(
            bash_command=["echo a", "echo b", "echo $X"]
        )
    assert isinstance(mapped, MappedOperator)
    assert d.get_task("echo") is mapped
    assert mapped.expand_spec() == {
        "bash_command": {"kind": "literal", "value": ["echo a", "echo b", "echo $X"]}
    }
    assert mapped.retries == 2 and mapped.operator_name == "BashOperator"
    assert [run_task(mapped, runtime, map_index=i) for i in range(3)] == ["a", "b", "1"]
    assert xcom(runtime, "d", "echo") == ["a", "b", "1"]


def test_unmap_builds_a_concrete_operator_for_one_index() -> None:
    with DAG("d") as d, TaskGroup("g"):
        mapped = BashOperator.partial(task_id="echo", retries=1).expand(bash_command=["x", "y"])
    concrete = mapped.unmap({"bash_command": "y"})
    assert isinstance(concrete, BashOperator)
    assert (concrete.task_id, concrete.bash_command, concrete.retries) == ("g.echo", "y", 1)
    assert concrete.dag is d and d.get_task("g.echo") is mapped  # the DAG still holds the mapped task


def test_expand_over_an_upstream_xcom(runtime: InMemoryRuntime) -> None:
    @task
    def make_list() -> list[int]:
        return [1, 2, 3]

    @task
    def double(x: int, factor: int) -> int:
        return x * factor

    with DAG("d"):
        doubled = double.partial(factor=2).expand(x=make_list())
    mapped = doubled.operator
    assert isinstance(mapped, MappedOperator)
    assert mapped.upstream_task_ids == {"make_list"}
    assert mapped.expand_spec() == {"x": {"kind": "xcom", "task_id": "make_list", "key": "return_value"}}
    run_task(mapped.dag.get_task("make_list"), runtime)
    assert [run_task(mapped, runtime, map_index=i) for i in range(3)] == [2, 4, 6]
    assert xcom(runtime, "d", "double") == [2, 4, 6]


def test_downstream_of_a_mapped_task_receives_all_values(runtime: InMemoryRuntime) -> None:
    @task
    def square(x: int) -> int:
        return x * x

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    with DAG("d"):
        result = total(square.expand(x=[1, 2, 3]))
    mapped = result.operator.dag.get_task("square")
    for i in range(3):
        run_task(mapped, runtime, map_index=i)
    assert run_task(result.operator, runtime) == 14


def test_several_mapped_arguments_form_a_cross_product_last_varying_fastest() -> None:
    @task
    def pair(a: str, b: int) -> str:
        return f"{a}{b}"

    with DAG("d"):
        out = pair.expand(a=["x", "y"], b=[1, 2, 3])
    mapped = out.operator
    assert isinstance(mapped, MappedOperator)

    def no_xcom(task_id: str, key: str) -> Any:
        raise AssertionError("literal expansion pulls nothing")

    values = [resolve_expand_args(mapped, i, no_xcom) for i in range(6)]
    assert [(v["a"], v["b"]) for v in values] == [("x", 1), ("x", 2), ("x", 3), ("y", 1), ("y", 2), ("y", 3)]
    with pytest.raises(TaskExecutionError, match="map index 6 is out of range; the expansion has 6"):
        resolve_expand_args(mapped, 6, no_xcom)


def test_a_dict_maps_to_key_value_pairs() -> None:
    with DAG("d"):
        mapped = BashOperator.partial(task_id="t").expand(
            env=[{"A": "1"}], bash_command={"k1": "v1", "k2": "v2"}
        )
    values = resolve_expand_args(mapped, 1, lambda *_: None)
    assert values == {"env": {"A": "1"}, "bash_command": ("k2", "v2")}


def test_an_upstream_value_that_is_not_a_list_fails_the_task() -> None:
    @task
    def scalar() -> int:
        return 5

    @task
    def use(x: int) -> None:
        pass

    with DAG("d"):
        mapped = use.expand(x=scalar()).operator
    assert isinstance(mapped, MappedOperator)
    with pytest.raises(TaskExecutionError, match="resolved to int; only lists and dicts can be mapped"):
        resolve_expand_args(mapped, 0, lambda task_id, key: 5)


def test_expansion_length_from_plain_data() -> None:
    spec = {
        "a": {"kind": "literal", "value": [1, 2]},
        "b": {"kind": "xcom", "task_id": "up", "key": "return_value"},
    }
    assert expansion_length(spec, {("up", "return_value"): [1, 2, 3]}) == 6
    assert expansion_length(spec, {"up": {"x": 1}}) == 2
    assert expansion_length(spec, {}) is None
    assert expansion_length({"a": {"kind": "literal", "value": []}}, {}) == 0
    with pytest.raises(TaskExecutionError, match="only lists and dicts"):
        expansion_length(spec, {"up": None})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: BashOperator.partial(task_id="t").expand(bash_command="echo"),
            "must be a list, a dict or an XComArg",
        ),
        (lambda: BashOperator.partial(task_id="t").expand(nope=[1]), "cannot map over argument 'nope'"),
        (
            lambda: BashOperator.partial(task_id="t").expand(task_id=["a"]),
            "cannot map over argument 'task_id'",
        ),
        (
            lambda: BashOperator.partial(task_id="t", bash_command="x").expand(bash_command=["y"]),
            "both partial",
        ),
        (lambda: BashOperator.partial(bash_command="x"), "needs task_id"),
        (lambda: BashOperator.partial(task_id="t", typo=1), "unknown argument"),
        (lambda: BashOperator.partial(task_id="t").expand(), "at least one argument"),
    ],
)
def test_invalid_mapping_is_refused_at_definition(call: Any, message: str) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match=message):
        call()


def test_decorated_expand_checks_argument_names() -> None:
    @task
    def f(x: int) -> None:
        pass

    with DAG("d"), pytest.raises(DagDefinitionError, match="unknown argument"):
        f.expand(y=[1])
