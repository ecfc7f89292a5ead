"""Tradewind: workflows as DAGs in Python. The names a DAG file imports, loaded on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator
    from tradewind.sdk.chain import chain
    from tradewind.sdk.context import get_current_context
    from tradewind.sdk.dag import DAG
    from tradewind.sdk.decorators import dag, setup, task, teardown
    from tradewind.sdk.edges import Label
    from tradewind.sdk.errors import TaskFailedNoRetry, TaskSkipped
    from tradewind.sdk.operators.bash import BashOperator
    from tradewind.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator
    from tradewind.sdk.operators.empty import EmptyOperator
    from tradewind.sdk.operators.python import PythonOperator
    from tradewind.sdk.params import Param
    from tradewind.sdk.taskgroup import TaskGroup, task_group
    from tradewind.sdk.trigger_rule import TriggerRule
    from tradewind.sdk.variable import Variable
    from tradewind.sdk.xcom_arg import XComArg

__all__ = [
    "DAG",
    "BaseOperator",
    "BashOperator",
    "BranchPythonOperator",
    "EmptyOperator",
    "Label",
    "Param",
    "PythonOperator",
    "ShortCircuitOperator",
    "TaskFailedNoRetry",
    "TaskGroup",
    "TaskSkipped",
    "TriggerRule",
    "Variable",
    "XComArg",
    "chain",
    "dag",
    "get_current_context",
    "setup",
    "task",
    "task_group",
    "teardown",
]

_SOURCES: dict[str, str] = {
    "DAG": "tradewind.sdk.dag",
    "dag": "tradewind.sdk.decorators",
    "task": "tradewind.sdk.decorators",
    "setup": "tradewind.sdk.decorators",
    "teardown": "tradewind.sdk.decorators",
    "Label": "tradewind.sdk.edges",
    "get_current_context": "tradewind.sdk.context",
    "task_group": "tradewind.sdk.taskgroup",
    "BaseOperator": "tradewind.sdk.baseoperator",
    "BashOperator": "tradewind.sdk.operators.bash",
    "PythonOperator": "tradewind.sdk.operators.python",
    "EmptyOperator": "tradewind.sdk.operators.empty",
    "BranchPythonOperator": "tradewind.sdk.operators.branch",
    "ShortCircuitOperator": "tradewind.sdk.operators.branch",
    "TaskGroup": "tradewind.sdk.taskgroup",
    "chain": "tradewind.sdk.chain",
    "Param": "tradewind.sdk.params",
    "Variable": "tradewind.sdk.variable",
    "TriggerRule": "tradewind.sdk.trigger_rule",
    "XComArg": "tradewind.sdk.xcom_arg",
    "TaskSkipped": "tradewind.sdk.errors",
    "TaskFailedNoRetry": "tradewind.sdk.errors",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("tradewind")
        except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
            return "0.0.0+unknown"
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module 'tradewind' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
