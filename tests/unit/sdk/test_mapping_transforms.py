"""expand_kwargs(), XComArg.map/.zip/.concat: what each map index receives and how many there are."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError, TaskSkipped
from tradewind.sdk.mapped import MappedOperator, expansion_length, resolve_expand_args
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.runtime import InMemoryRuntime

from .conftest import run_task, xcom


@task
def numbers() -> list[int]:
    return [1, 2, 3]


@task
def letters() -> list[str]:
    return ["a", "b"]


def _mapped(arg: Any) -> MappedOperator:
    op = arg.operator if hasattr(arg, "operator") else arg
    assert isinstance(op, MappedOperator)
    return op


def test_operator_expand_kwargs_over_a_literal_list_of_dicts(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        mapped = BashOperator.partial(task_id="echo").expand_kwargs(
            [{"bash_command": "echo $X", "env": {"X": "one"}}, {"bash_command": "echo two"}]
        )
    assert mapped.expand_spec()["kwargs"]["kind"] == "literal"
    assert [run_task(mapped, runtime, map_index=i) for i in range(2)] == ["one", "two"]


def test_decorated_expand_kwargs_from_an_upstream_xcom(runtime: InMemoryRuntime) -> None:
    @task
    def configs() -> list[dict[str, int]]:
        return [{"a": 1, "b": 10}, {"a": 2, "b": 20}]

    @task
    def add(a: int, b: int, c: int) -> int:
        return a + b + c

    with DAG("d"):
        out = add.partial(c=100).expand_kwargs(configs())
    mapped = _mapped(out)
    assert mapped.upstream_task_ids == {"configs"}
    assert mapped.expand_spec() == {"kwargs": {"kind": "xcom", "task_id": "configs", "key": "return_value"}}
    run_task(mapped.dag.get_task("configs"), runtime)
    assert [run_task(mapped, runtime, map_index=i) for i in range(2)] == [111, 122]
    assert expansion_length(mapped.expand_spec(), {"configs": [{}, {}, {}]}) == 3


def test_expand_kwargs_refuses_what_is_not_a_list_of_dicts() -> None:
    with DAG("d"):
        with pytest.raises(DagDefinitionError, match="expand_kwargs\\(\\) needs a list of dicts"):
            BashOperator.partial(task_id="t").expand_kwargs({"bash_command": "x"})
        mapped = BashOperator.partial(task_id="u", env={"A": "1"}).expand_kwargs(
            [{"bash_command": "x"}, {"env": {}}, {"nope": 1}]
        )
    pull = _no_xcom
    with pytest.raises(TaskExecutionError, match="already given to partial"):
        mapped.unmap(resolve_expand_args(mapped, 1, pull))
    with pytest.raises(TaskExecutionError, match="'nope'"):
        mapped.unmap(resolve_expand_args(mapped, 2, pull))
    with pytest.raises(TaskExecutionError, match="map index 3 is out of range"):
        resolve_expand_args(mapped, 3, pull)


def _no_xcom(task_id: str, key: str) -> Any:
    raise AssertionError("nothing to pull")


def test_map_applies_the_function_only_to_the_item_read(runtime: InMemoryRuntime) -> None:
    seen: list[int] = []

    def shout(n: int) -> str:
        seen.append(n)
        return f"N{n}"

    @task
    def echo(x: str) -> str:
        return x

    with DAG("d"):
        out = echo.expand(x=numbers().map(shout))
    mapped = _mapped(out)
    assert mapped.upstream_task_ids == {"numbers"}
    assert mapped.expand_spec() == {
        "x": {"kind": "map", "args": [{"kind": "xcom", "task_id": "numbers", "key": "return_value"}]}
    }
    run_task(mapped.dag.get_task("numbers"), runtime)
    assert run_task(mapped, runtime, map_index=2) == "N3"
    assert seen == [3]
    assert expansion_length(mapped.expand_spec(), {"numbers": [1, 2, 3, 4]}) == 4


def test_map_over_a_dict_sees_key_value_pairs_and_may_skip() -> None:
    def only_b(item: tuple[str, int]) -> int:
        if item[0] != "b":
            raise TaskSkipped(f"{item[0]} is not wanted")
        return item[1]

    @task
    def source() -> dict[str, int]:
        return {"a": 1, "b": 2}

    @task
    def use(x: int) -> int:
        return x

    with DAG("d"):
        mapped = _mapped(use.expand(x=source().map(only_b)))

    def pull(task_id: str, key: str) -> Any:
        return {"a": 1, "b": 2}

    assert resolve_expand_args(mapped, 1, pull) == {"x": 2}
    with pytest.raises(TaskSkipped, match="a is not wanted"):
        resolve_expand_args(mapped, 0, pull)


def test_zip_pairs_items_up_to_the_shortest_or_pads_with_fillvalue(runtime: InMemoryRuntime) -> None:
    @task
    def pair(x: tuple[Any, ...]) -> str:
        return "".join(str(v) for v in x)

    with DAG("d") as d:
        nums, chars = numbers(), letters()
        short = pair.override(task_id="short").expand(x=nums.zip(chars))
        padded = pair.override(task_id="padded").expand(x=nums.zip(chars, fillvalue="-"))
    run_task(d.get_task("numbers"), runtime)
    run_task(d.get_task("letters"), runtime)
    assert [run_task(_mapped(short), runtime, map_index=i) for i in range(2)] == ["1a", "2b"]
    assert [run_task(_mapped(padded), runtime, map_index=i) for i in range(3)] == ["1a", "2b", "3-"]
    values = {"numbers": [1, 2, 3], "letters": ["a", "b"]}
    assert expansion_length(_mapped(short).expand_spec(), values) == 2
    assert expansion_length(_mapped(padded).expand_spec(), values) == 3
    assert _mapped(short).upstream_task_ids == {"numbers", "letters"}


def test_concat_chains_values(runtime: InMemoryRuntime) -> None:
    @task
    def echo(x: Any) -> Any:
        return x

    with DAG("d") as d:
        out = echo.expand(x=numbers().concat(letters()))
    run_task(d.get_task("numbers"), runtime)
    run_task(d.get_task("letters"), runtime)
    mapped = _mapped(out)
    assert [run_task(mapped, runtime, map_index=i) for i in range(5)] == [1, 2, 3, "a", "b"]
    assert xcom(runtime, "d", "echo") == [1, 2, 3, "a", "b"]
    assert expansion_length(mapped.expand_spec(), {"numbers": [1], "letters": []}) == 1


def test_a_transformed_xcom_as_a_plain_argument_is_a_lazy_sequence(runtime: InMemoryRuntime) -> None:
    @task
    def total(values: Any) -> int:
        return sum(values)

    with DAG("d") as d:
        out = total(numbers().map(lambda n: n * 10))
    run_task(d.get_task("numbers"), runtime)
    assert run_task(out.operator, runtime) == 60


def test_transforms_need_a_return_value_and_plain_functions() -> None:
    with DAG("d"):
        out = numbers()
        with pytest.raises(DagDefinitionError, match="only a task's return value"):
            out["other"].map(str)
        with pytest.raises(DagDefinitionError, match="map\\(\\) needs a plain function"):
            out.map(numbers)
        with pytest.raises(DagDefinitionError, match="expected XComArgs"):
            out.zip([1, 2])  # type: ignore[arg-type]


def test_expand_kwargs_dicts_may_hold_upstream_outputs(runtime: InMemoryRuntime) -> None:
    @task
    def base() -> int:
        return 100

    @task
    def add(a: int, b: int) -> int:
        return a + b

    with DAG("d") as d:
        out = add.expand_kwargs([{"a": 1, "b": base()}, {"a": 2, "b": 3}])
    mapped = _mapped(out)
    assert mapped.upstream_task_ids == {"base"}
    run_task(d.get_task("base"), runtime)
    assert [run_task(mapped, runtime, map_index=i) for i in range(2)] == [101, 5]
