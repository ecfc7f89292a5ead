"""Where a DAG is being defined: the open ``with DAG`` / ``with TaskGroup`` blocks, and the DAGs collected
while a file is imported. Context variables, so threads and nested imports do not see each other's state."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewind.sdk.dag import DAG
    from tradewind.sdk.taskgroup import TaskGroup

_dag_stack: ContextVar[tuple[DAG, ...]] = ContextVar("tradewind_dag_stack", default=())
_group_stack: ContextVar[tuple[TaskGroup, ...]] = ContextVar("tradewind_group_stack", default=())
_collector: ContextVar[list[DAG] | None] = ContextVar("tradewind_dag_collector", default=None)
_detached: ContextVar[bool] = ContextVar("tradewind_detached_operators", default=False)

_SDK_DIR = str(Path(__file__).resolve().parent)


@dataclass(frozen=True, slots=True)
class DefinitionSite:
    """The user's file and line that created a DAG or task."""

    filename: str
    lineno: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"


def current_dag() -> DAG | None:
    stack = _dag_stack.get()
    return stack[-1] if stack else None


def push_dag(dag: DAG) -> None:
    _dag_stack.set((*_dag_stack.get(), dag))


def pop_dag(dag: DAG) -> None:
    stack = _dag_stack.get()
    if stack and stack[-1] is dag:
        _dag_stack.set(stack[:-1])


def current_group() -> TaskGroup | None:
    stack = _group_stack.get()
    return stack[-1] if stack else None


def push_group(group: TaskGroup) -> None:
    _group_stack.set((*_group_stack.get(), group))


def pop_group(group: TaskGroup) -> None:
    stack = _group_stack.get()
    if stack and stack[-1] is group:
        _group_stack.set(stack[:-1])


def register_dag(dag: DAG) -> None:
    """Record a DAG finished by a ``with`` block or an ``@dag`` call, for the file loader."""
    collected = _collector.get()
    if collected is not None and not any(d is dag for d in collected):
        collected.append(dag)


@contextmanager
def collecting_dags() -> Iterator[list[DAG]]:
    """Collect every DAG registered inside the block (in creation order)."""
    collected: list[DAG] = []
    token = _collector.set(collected)
    try:
        yield collected
    finally:
        _collector.reset(token)


@contextmanager
def detached_definitions() -> Iterator[None]:
    """Build operators that attach to no DAG or group (the runner's copies of mapped tasks)."""
    tokens = (_dag_stack.set(()), _group_stack.set(()), _detached.set(True))
    try:
        yield
    finally:
        _detached.reset(tokens[2])
        _group_stack.reset(tokens[1])
        _dag_stack.reset(tokens[0])


def is_detached() -> bool:
    return _detached.get()


def caller_site() -> DefinitionSite | None:
    """The nearest stack frame outside the SDK: where the user wrote the call."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_SDK_DIR) and not filename.startswith("<frozen"):
            return DefinitionSite(filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None
