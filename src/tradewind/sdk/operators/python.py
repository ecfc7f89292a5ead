"""PythonOperator: call a Python function, handing it the context values its signature asks for."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradewind.sdk.asset_events import consume_generator
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.legacy_context import context_with, legacy_kwargs


def callable_kwargs(
    func: Callable[..., Any], op_args: Sequence[Any], context: Mapping[str, Any], op_kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """Keyword arguments for ``func(*op_args, **result)``: op_kwargs over the context; all of it for a
    function with ``**kwargs``, else only the names it declares (``ds``, ``ti``, ``params`` ...)."""
    params = list(inspect.signature(func).parameters.values())
    merged = {**legacy_kwargs(context, params), **context, **op_kwargs}
    positional_kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in positional_kinds]
    taken_by_args = {p.name for p in positional[: len(op_args)]}
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params) and len(op_args) > len(positional):
        taken_by_args = {p.name for p in positional}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return {k: v for k, v in merged.items() if k not in taken_by_args}
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {
        p.name: merged[p.name]
        for p in params
        if p.kind in keyword_kinds and p.name in merged and p.name not in taken_by_args
    }


def emit(line: str) -> None:
    """A line for the task log (the runner captures stdout)."""
    print(line, flush=True)


class PythonOperator(BaseOperator):
    """``PythonOperator(task_id="load", python_callable=load, op_kwargs={"table": "x"})``."""

    template_fields: Sequence[str] = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers: dict[str, str] = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: Mapping[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        if not callable(python_callable):
            raise DagDefinitionError(
                f"{type(self).__name__}(task_id={kwargs.get('task_id')!r}): python_callable must be callable"
            )
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = dict(templates_dict) if templates_dict is not None else None
        if templates_exts:
            self.template_ext = tuple(templates_exts)
        self.show_return_value_in_logs = show_return_value_in_logs
        super().__init__(**kwargs)

    def execute(self, context: Mapping[str, Any]) -> Any:
        context = context_with(context, templates_dict=self.templates_dict)
        kwargs = callable_kwargs(self.python_callable, self.op_args, context, self.op_kwargs)
        # A generator function's yielded Metadata become the extra of its outlet events.
        result = consume_generator(self.execute_callable(kwargs), context)
        if self.show_return_value_in_logs:
            emit(f"Done. Returned value was: {result!r}")
        else:
            emit("Done. Returned value not shown")
        return result

    def execute_callable(self, kwargs: Mapping[str, Any]) -> Any:
        result = self.python_callable(*self.op_args, **kwargs)
        if inspect.iscoroutine(result):
            # An ``async def`` callable (Airflow 3.2+): run it to completion on its own event loop.
            return asyncio.run(result)
        return result
