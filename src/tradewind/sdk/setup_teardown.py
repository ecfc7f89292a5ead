"""Setup and teardown tasks: marking them, and the ``with setup >> teardown:`` block that wraps work tasks.

A setup creates a resource, a teardown removes it; the tasks between them are the work that uses it. Inside
``with create >> delete:`` every task created becomes work: the setup(s) go upstream of its roots and its
leaves go upstream of the teardown(s). Nested blocks chain outer setups to inner setups and inner teardowns
to outer teardowns. The stack is a context variable, as the ``with DAG`` stack is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradewind.sdk.dependencies import DependencyMixin
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.trigger_rule import TriggerRule

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator


@dataclass
class SetupTeardownScope:
    """One open ``with`` block: its setups and teardowns, and the tasks created inside it."""

    setups: list[AbstractOperator]
    teardowns: list[AbstractOperator]
    created: list[AbstractOperator] = field(default_factory=list)


_scopes: ContextVar[tuple[SetupTeardownScope, ...]] = ContextVar("tradewind_setup_teardown", default=())


def record_task(task: AbstractOperator) -> None:
    """Called when a task joins a DAG: inside a setup/teardown block it is a candidate work task."""
    scopes = _scopes.get()
    if scopes and not any(task is t for t in scopes[-1].created):
        scopes[-1].created.append(task)


def _downstream_teardowns(setups: Sequence[AbstractOperator]) -> list[AbstractOperator]:
    found: dict[str, AbstractOperator] = {}
    for setup in setups:
        if not setup.has_dag():
            continue
        for task in setup.get_flat_relatives(upstream=False):
            if task.is_teardown:
                found.setdefault(task.task_id, task)
    return list(found.values())


def _upstream_setups(teardowns: Sequence[AbstractOperator]) -> list[AbstractOperator]:
    found: dict[str, AbstractOperator] = {}
    for teardown in teardowns:
        if not teardown.has_dag():
            continue
        for task in teardown.get_flat_relatives(upstream=True):
            if task.is_setup:
                found.setdefault(task.task_id, task)
    return list(found.values())


def enter_scope(operators: Iterable[AbstractOperator]) -> None:
    """Open a block on setup tasks (their teardowns are found downstream) or teardown tasks (their setups
    are found upstream)."""
    tasks = list(operators)
    if not tasks or not all(t.is_setup or t.is_teardown for t in tasks):
        names = ", ".join(repr(t.task_id) for t in tasks)
        raise DagDefinitionError(f"only setup or teardown tasks can open a `with` block; got {names}")
    if any(t.is_setup != tasks[0].is_setup for t in tasks):
        raise DagDefinitionError("a `with` block takes either setup tasks or teardown tasks, not both")
    if tasks[0].is_setup:
        scope = SetupTeardownScope(setups=tasks, teardowns=_downstream_teardowns(tasks))
    else:
        scope = SetupTeardownScope(setups=_upstream_setups(tasks), teardowns=tasks)
    _scopes.set((*_scopes.get(), scope))


def exit_scope() -> None:
    """Close the innermost block: wire its work tasks between its setups and teardowns."""
    scopes = _scopes.get()
    if not scopes:
        return
    scope = scopes[-1]
    _scopes.set(scopes[:-1])
    work = [t for t in scope.created if not t.is_setup and not t.is_teardown]
    if work:
        # As Airflow: a work task with any upstream (a setup of its own, another task) is not a root, one
        # with any downstream is not a leaf; with none, the first (last) task created stands in.
        roots = [t for t in work if not t.upstream_task_ids] or work[:1]
        leaves = [t for t in work if not t.downstream_task_ids] or work[-1:]
        for setup in scope.setups:
            for root in roots:
                setup.set_downstream(root)
        for teardown in scope.teardowns:
            for leaf in leaves:
                leaf.set_downstream(teardown)
    if len(scopes) > 1:
        outer = scopes[-2]
        for outer_setup in outer.setups:
            for inner_setup in scope.setups:
                if outer_setup is not inner_setup:
                    outer_setup.set_downstream(inner_setup)
        for inner_teardown in scope.teardowns:
            for outer_teardown in outer.teardowns:
                if outer_teardown is not inner_teardown:
                    inner_teardown.set_downstream(outer_teardown)


def mark_teardown(
    task: AbstractOperator,
    *,
    setups: object,
    on_failure_fail_dagrun: bool | None,
) -> None:
    """What ``task.as_teardown(...)`` does: the teardown rule, and each setup made a setup and upstream."""
    task.is_teardown = True
    task.trigger_rule = str(TriggerRule.ALL_DONE_SETUP_SUCCESS)
    if on_failure_fail_dagrun is not None:
        task.on_failure_fail_dagrun = on_failure_fail_dagrun
    if setups is None:
        return
    for setup in _as_tasks(setups):
        setup.is_setup = True
        setup.set_downstream(task)


def _as_tasks(value: object) -> list[AbstractOperator]:
    if isinstance(value, DependencyMixin):
        return value.dependency_leaves()
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        tasks: list[AbstractOperator] = []
        for item in value:
            tasks.extend(_as_tasks(item))
        return tasks
    raise DagDefinitionError(f"setups= takes tasks or XComArgs, got {value!r}")
