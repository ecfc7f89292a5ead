"""Branching and short-circuiting: which downstream tasks to skip, and asking the runtime to skip them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import TaskExecutionError
from tradewind.sdk.operators.python import PythonOperator, emit
from tradewind.sdk.runtime import get_runtime


def _as_ids(task: AbstractOperator, followed: object) -> set[str]:
    if followed is None:
        return set()
    if isinstance(followed, str):
        return {followed}
    if isinstance(followed, Iterable) and not isinstance(followed, Mapping):
        ids = list(followed)
        if all(isinstance(i, str) for i in ids):
            return set(ids)
    raise TaskExecutionError(
        f"branch task {task.task_id!r} must return a task id, a list of task ids or None; got {followed!r}"
    )


def branch_skips(task: AbstractOperator, followed: object) -> list[str]:
    """The direct downstream tasks of ``task`` a branch does not follow, as Airflow's skip_all_except.

    A followed task group stands for its root tasks. A task downstream of a followed task is not skipped
    even when it is also directly downstream of the branch (``branch >> join`` and ``branch >> a >> join``).
    """
    dag = task.dag
    ids = _as_ids(task, followed)
    groups = dag.task_group_dict
    invalid = sorted(i for i in ids if i not in dag.task_dict and i not in groups)
    if invalid:
        raise TaskExecutionError(
            f"branch task {task.task_id!r} returned unknown task id(s): {', '.join(invalid)}"
        )
    keep: set[str] = set()
    for branch_id in ids:
        if branch_id in groups:
            keep.update(t.task_id for t in groups[branch_id].roots)
        else:
            keep.add(branch_id)
    for branch_id in list(keep):
        keep.update(dag.task_dict[branch_id].get_flat_relative_ids(upstream=False))
    return sorted(t for t in task.downstream_task_ids if t not in keep)


def short_circuit_skips(task: AbstractOperator, ignore_downstream_trigger_rules: bool) -> list[str]:
    """Every descendant, or only the direct downstream tasks (whose trigger rules then decide the rest);
    never a teardown task, which still cleans up after a short-circuited run."""
    if ignore_downstream_trigger_rules:
        ids = task.get_flat_relative_ids(upstream=False)
    else:
        ids = set(task.downstream_task_ids)
    tasks = task.dag.task_dict if task.has_dag() else {}
    return sorted(t for t in ids if not (t in tasks and tasks[t].is_teardown))


def skip_tasks(task: AbstractOperator, context: Mapping[str, Any], task_ids: list[str]) -> None:
    if not task_ids:
        return
    emit(f"Skipping tasks: {', '.join(task_ids)}")
    get_runtime().skip_tasks(dag_id=task.dag.dag_id, run_id=context["run_id"], task_ids=task_ids)


class BranchMixin:
    """Follow the task id(s) a branch returned; skip the other direct downstream tasks."""

    def do_branch(self, context: Mapping[str, Any], followed: Any) -> Any:
        assert isinstance(self, AbstractOperator)
        emit(f"Branch callable returned {followed!r}")
        skip_tasks(self, context, branch_skips(self, followed))
        return followed


class ShortCircuitMixin:
    """A falsy result skips downstream tasks; a truthy one lets them run."""

    ignore_downstream_trigger_rules: bool = True

    def do_short_circuit(self, context: Mapping[str, Any], condition: Any) -> Any:
        assert isinstance(self, AbstractOperator)
        if condition:
            emit("Condition result is truthy; downstream tasks proceed")
            return condition
        emit("Condition result is falsy; skipping downstream tasks")
        skip_tasks(self, context, short_circuit_skips(self, self.ignore_downstream_trigger_rules))
        return condition


class BaseBranchOperator(BaseOperator, BranchMixin):
    """Subclass it and implement ``choose_branch(context)``: the task id(s) to follow among the direct
    downstream tasks (an empty list or None skips them all)."""

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} does not implement choose_branch()")

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, self.choose_branch(context))


class BranchPythonOperator(PythonOperator, BranchMixin):
    """``python_callable`` returns the task id (or ids) to follow among the direct downstream tasks."""

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


class ShortCircuitOperator(PythonOperator, ShortCircuitMixin):
    """A falsy ``python_callable`` result skips every descendant (``ignore_downstream_trigger_rules=True``)
    or only the direct downstream tasks (False)."""

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        super().__init__(**kwargs)

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_short_circuit(context, super().execute(context))
