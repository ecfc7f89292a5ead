"""@task_group(...).partial().expand() / .expand_kwargs(): every task of the group runs once per map index,
with the group's arguments and its in-group XComs of that index."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.taskgroup import MappedTaskGroup, task_group

from .conftest import run_task, xcom


@task
def numbers() -> list[int]:
    return [1, 2, 3]


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def double(v: int) -> int:
    return v * 2


@task
def total(values: list[int]) -> int:
    return sum(values)


def _group_dag() -> DAG:
    @task_group
    def per_number(x: int, y: int) -> Any:
        return double(add(x, y))

    with DAG("d") as d:
        total(per_number.partial(y=10).expand(x=numbers()))
    return d


def test_tasks_of_an_expanded_group_resolve_their_own_index(runtime: InMemoryRuntime) -> None:
    d = _group_dag()
    group = d.task_group_dict["per_number"]
    assert isinstance(group, MappedTaskGroup)
    adder, doubler = d.get_task("per_number.add"), d.get_task("per_number.double")
    assert adder.closest_mapped_group() is group and not adder.is_mapped
    assert adder.upstream_task_ids == {"numbers"}  # the group's source runs before its roots
    assert d.get_task("total").upstream_task_ids == {"per_number.double"}

    run_task(d.get_task("numbers"), runtime)
    assert [run_task(adder, runtime, map_index=i) for i in range(3)] == [11, 12, 13]
    # ``double(add(...))`` inside the group reads add's value of the same map index.
    assert [run_task(doubler, runtime, map_index=i) for i in (2, 0, 1)] == [26, 22, 24]
    # Downstream of the group sees every instance's value.
    assert xcom(runtime, "d", "per_number.double") == [22, 24, 26]
    assert run_task(d.get_task("total"), runtime) == 72


def test_expand_kwargs_on_a_group_and_a_literal_expansion(runtime: InMemoryRuntime) -> None:
    @task_group
    def greet(name: str, punct: str) -> None:
        BashOperator(task_id="say", bash_command="echo hello", env={"N": name, "P": punct})
        BashOperator(task_id="show", bash_command=name)

    with DAG("d") as d:
        greet.expand_kwargs([{"name": "echo ann", "punct": "!"}, {"name": "echo bob", "punct": "?"}])
    group = d.task_group_dict["greet"]
    assert isinstance(group, MappedTaskGroup) and group.expand_input.kind == "list"
    assert [run_task(d.get_task("greet.show"), runtime, map_index=i) for i in range(2)] == ["ann", "bob"]


def test_group_arguments_are_checked_at_definition() -> None:
    @task_group
    def g(x: int) -> None:
        double(x)

    with DAG("d"):
        with pytest.raises(DagDefinitionError, match="unknown argument"):
            g.expand(z=[1])
        with pytest.raises(DagDefinitionError, match="both partial\\(\\) and expand\\(\\)"):
            g.partial(x=1).expand(x=[2])
        with pytest.raises(DagDefinitionError, match="must be a list, a dict or an XComArg"):
            g.expand(x=5)


def test_nested_mapping_inside_a_mapped_group_is_refused() -> None:
    @task_group
    def outer(x: int) -> None:
        double.expand(v=[1, 2])

    @task_group
    def inner(y: int) -> None:
        double(y)

    @task_group
    def wrapper(x: int) -> None:
        inner.expand(y=[1])

    refused = "inside the mapped task group 'outer' is not supported"
    with DAG("d"), pytest.raises(DagDefinitionError, match=refused):
        outer.expand(x=[1])
    with DAG("e"), pytest.raises(DagDefinitionError, match="mapped task group inside the mapped task group"):
        wrapper.expand(x=[1])
