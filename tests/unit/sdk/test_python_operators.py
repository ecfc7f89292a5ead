"""PythonOperator, BranchPythonOperator, ShortCircuitOperator and EmptyOperator, run as the runner does."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator, branch_skips
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.operators.python import PythonOperator, callable_kwargs
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.taskgroup import TaskGroup

from .conftest import run_task


def test_op_args_op_kwargs_and_templates(runtime: InMemoryRuntime, capfd: pytest.CaptureFixture[str]) -> None:
    def work(a: str, b: str, *, c: str, templates_dict: dict[str, str], ds: str) -> str:
        return "|".join([a, b, c, templates_dict["t"], ds])

    with DAG("d"):
        op = PythonOperator(
            task_id="t",
            python_callable=work,
            op_args=["{{ ds_nodash }}", "x"],
            op_kwargs={"c": "{{ run_id }}"},
            templates_dict={"t": "{{ task.task_id }}"},
        )
    assert run_task(op, runtime) == "20240305|x|manual__1|t|2024-03-05"
    assert "Done. Returned value was: '20240305|x|manual__1|t|2024-03-05'" in capfd.readouterr().out


def test_async_callables_are_awaited(runtime: InMemoryRuntime) -> None:
    """Airflow 3.2+ runs ``async def`` callables to completion; the task returns what the coroutine returns."""
    import asyncio

    async def fetch(delay: float, ds: str) -> str:
        await asyncio.sleep(delay)
        return f"fetched for {ds}"

    with DAG("d"):
        op = PythonOperator(task_id="t", python_callable=fetch, op_kwargs={"delay": 0.01})
    assert run_task(op, runtime) == "fetched for 2024-03-05"


def test_kwargs_function_gets_the_whole_context_and_op_kwargs_win() -> None:
    def f(**kwargs: Any) -> None:
        pass

    assert callable_kwargs(f, [], {"ds": "1", "ti": "x"}, {"ds": "2"}) == {"ds": "2", "ti": "x"}


def test_only_declared_names_are_passed_and_positional_ones_are_not_repeated() -> None:
    def f(params: Any, ds: str = "", other: int = 0) -> None:
        pass

    assert callable_kwargs(f, ["given"], {"params": {}, "ds": "d", "ti": 1}, {}) == {"ds": "d"}


def test_a_non_callable_is_refused() -> None:
    with pytest.raises(DagDefinitionError, match="python_callable must be callable"):
        PythonOperator(task_id="t", python_callable="not callable")  # type: ignore[arg-type]


def test_return_value_can_be_hidden(runtime: InMemoryRuntime, capfd: pytest.CaptureFixture[str]) -> None:
    with DAG("d"):
        op = PythonOperator(task_id="t", python_callable=lambda: "secret", show_return_value_in_logs=False)
    run_task(op, runtime)
    out = capfd.readouterr().out
    assert "secret" not in out and "Returned value not shown" in out


def branching_dag(choice: Any) -> DAG:
    with DAG("b") as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: choice)
        a, b, c = (EmptyOperator(task_id=x) for x in "abc")
        with TaskGroup("grp"):
            g1 = EmptyOperator(task_id="g1")
            g2 = EmptyOperator(task_id="g2")
            g1 >> g2
        join = EmptyOperator(task_id="join")
        branch >> [a, b, c, g1, join]
        a >> join
    return dag


@pytest.mark.parametrize(
    ("choice", "skipped"),
    [
        ("a", ["b", "c", "grp.g1"]),  # join is downstream of the followed a, so it is kept
        (["b", "c"], ["a", "grp.g1", "join"]),
        ("grp", ["a", "b", "c", "join"]),  # a group id stands for its roots
        (None, ["a", "b", "c", "grp.g1", "join"]),
    ],
)
def test_branch_skips_the_direct_downstream_not_followed(
    runtime: InMemoryRuntime, choice: Any, skipped: list[str]
) -> None:
    dag = branching_dag(choice)
    assert run_task(dag.get_task("branch"), runtime) == choice
    assert runtime.skipped.get(("b", "manual__1"), []) == skipped


def test_branch_to_an_unknown_task_fails(runtime: InMemoryRuntime) -> None:
    dag = branching_dag(["a", "ghost"])
    with pytest.raises(TaskExecutionError, match=r"unknown task id\(s\): ghost"):
        run_task(dag.get_task("branch"), runtime)
    with pytest.raises(TaskExecutionError, match="must return a task id"):
        branch_skips(dag.get_task("branch"), 5)


@pytest.mark.parametrize(("ignore", "skipped"), [(True, ["a", "b", "c"]), (False, ["a"])])
def test_short_circuit(runtime: InMemoryRuntime, ignore: bool, skipped: list[str]) -> None:
    with DAG("s") as dag:
        gate = ShortCircuitOperator(
            task_id="gate", python_callable=lambda: [], ignore_downstream_trigger_rules=ignore
        )
        gate >> EmptyOperator(task_id="a") >> EmptyOperator(task_id="b") >> EmptyOperator(task_id="c")
    assert run_task(dag.get_task("gate"), runtime) == []
    assert runtime.skipped[("s", "manual__1")] == skipped


def test_short_circuit_truthy_lets_everything_run(runtime: InMemoryRuntime) -> None:
    with DAG("s") as dag:
        gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: "go")
        gate >> EmptyOperator(task_id="a")
    assert run_task(dag.get_task("gate"), runtime) == "go"
    assert runtime.skipped == {}


def test_empty_operator_does_nothing(runtime: InMemoryRuntime) -> None:
    with DAG("e"):
        op = EmptyOperator(task_id="e")
    assert run_task(op, runtime) is None
