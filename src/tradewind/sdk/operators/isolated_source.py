"""The source of a function run by another interpreter: its own ``def``, dedented, decorators removed."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable
from typing import Any

from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError


def check_isolatable(function: Callable[..., Any], owner: str) -> None:
    """Only a plain ``def`` function can be re-created from its source in another interpreter."""
    if not isinstance(function, types.FunctionType) or function.__name__ == "<lambda>":
        raise DagDefinitionError(
            f"{owner}: python_callable must be a function defined with def (not a lambda, method or "
            f"callable object), got {function!r}"
        )
    if inspect.isgeneratorfunction(function) or inspect.iscoroutinefunction(function):
        raise DagDefinitionError(
            f"{owner}: python_callable {function.__name__!r} must be a plain function, "
            "not a generator or coroutine"
        )


def callable_source(function: Callable[..., Any]) -> str:
    """``function``'s definition as text that runs at module level: dedented, without its decorators
    (``@task.virtualenv(...)`` would need Tradewind in the target interpreter)."""
    where = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', function)}"
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as exc:
        raise TaskExecutionError(f"cannot read the source of {where}: {exc}") from exc
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TaskExecutionError(f"cannot parse the source of {where}: {exc}") from exc
    node = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
        None,
    )
    if node is None:
        raise TaskExecutionError(f"the source of {where} holds no function definition")
    # node.lineno is the ``def`` line; decorators sit on the lines above it.
    lines = source.splitlines(keepends=True)
    body = "".join(lines[node.lineno - 1 :])
    if node.name != function.__name__:
        body += f"\n{function.__name__} = {node.name}\n"
    return body
