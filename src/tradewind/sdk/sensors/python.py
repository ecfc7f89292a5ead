"""PythonSensor: poke by calling a Python function until it returns something true."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.legacy_context import context_with
from tradewind.sdk.operators.python import callable_kwargs
from tradewind.sdk.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator):
    """``PythonSensor(task_id="wait", python_callable=ready, op_kwargs={...})``: the function gets the
    context values its signature names; a true result (or ``PokeReturnValue(True, value)``) ends the wait."""

    template_fields: Sequence[str] = ("templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: Mapping[str, Any] | None = None,
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
        super().__init__(**kwargs)

    def poke(self, context: Mapping[str, Any]) -> bool | PokeReturnValue:
        context = context_with(context, templates_dict=self.templates_dict)
        kwargs = callable_kwargs(self.python_callable, self.op_args, context, self.op_kwargs)
        result = self.python_callable(*self.op_args, **kwargs)
        return result if isinstance(result, PokeReturnValue) else PokeReturnValue(bool(result), None)
