"""Which XComs a task's return value becomes: ``return_value``, plus one per key with multiple_outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.errors import TaskExecutionError
from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY


def result_xcoms(task: AbstractOperator, result: Any) -> list[tuple[str, Any]]:
    """The (key, value) pairs the runner pushes after ``execute`` returned ``result``.

    Nothing when the task does not push (``do_xcom_push=False``) or returned None, as in Airflow.
    """
    if not task.do_xcom_push or result is None:
        return []
    pushes: list[tuple[str, Any]] = []
    if task.multiple_outputs:
        if not isinstance(result, Mapping) or not all(isinstance(k, str) for k in result):
            raise TaskExecutionError(
                f"task {task.task_id!r} has multiple_outputs=True but returned {type(result).__name__}, "
                "not a dict with string keys"
            )
        pushes.extend((key, value) for key, value in result.items())
    pushes.append((RETURN_VALUE_KEY, result))
    return pushes
