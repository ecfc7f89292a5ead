"""get_current_context(): the running task's context from anywhere in its code, as the runner installs it;
a clear error outside a task."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tradewind.runner.execution import Ending, execute_task
from tradewind.sdk.context import build_context, get_current_context, set_current_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import NoTaskContextError
from tradewind.sdk.operators.python import PythonOperator
from tradewind.sdk.runtime import InMemoryRuntime

from .conftest import LOGICAL_DATE


def helper_deep_inside() -> str:
    context = get_current_context()
    return f"{context['ti'].task_id}@{context['ds']}"


def run_like_the_runner(op: Any) -> tuple[Ending, dict[str, Any]]:
    pushed: dict[str, Any] = {}
    context = build_context(task=op, run_id="r1", logical_date=LOGICAL_DATE)
    result = execute_task(
        op, context, push_xcom=lambda k, v: pushed.__setitem__(k, v), log=logging.getLogger("test")
    )
    return result.ending, pushed


def test_a_taskflow_function_reaches_the_context(runtime: InMemoryRuntime) -> None:
    with DAG("ctx") as dag:

        @task
        def who() -> str:
            return helper_deep_inside()

        who()
    ending, pushed = run_like_the_runner(dag.get_task("who"))
    assert ending is Ending.SUCCESS and pushed["return_value"] == "who@2024-03-05"


def test_a_python_operator_callable_reaches_the_context(runtime: InMemoryRuntime) -> None:
    with DAG("ctx"):
        op = PythonOperator(task_id="call", python_callable=helper_deep_inside)
    ending, pushed = run_like_the_runner(op)
    assert ending is Ending.SUCCESS and pushed["return_value"] == "call@2024-03-05"


def test_outside_a_task_it_raises_a_clear_error() -> None:
    with pytest.raises(NoTaskContextError, match="outside a running task"):
        get_current_context()
    with pytest.raises(RuntimeError):  # code written for Airflow catches RuntimeError
        get_current_context()


def test_the_context_is_gone_after_the_task_and_blocks_nest() -> None:
    outer: dict[str, Any] = {"name": "outer"}
    with set_current_context(outer):
        with set_current_context({"name": "inner"}):
            assert get_current_context()["name"] == "inner"
        assert get_current_context() is outer
    with pytest.raises(NoTaskContextError):
        get_current_context()
