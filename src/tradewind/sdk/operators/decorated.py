"""The operators behind ``@task``, ``@task.branch``, ``@task.short_circuit``, ``@task.bash`` and the
isolated ``@task.virtualenv``, ``@task.external_python`` and their branch forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradewind.sdk.errors import TaskExecutionError, TemplateError
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.branch import BranchMixin, ShortCircuitMixin
from tradewind.sdk.operators.isolated_python import (
    BranchExternalPythonOperator,
    BranchPythonVirtualenvOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
)
from tradewind.sdk.operators.python import PythonOperator, callable_kwargs


class _PythonDecoratedOperator(PythonOperator):
    """``@task``: the function's arguments (XComArgs included) are resolved when the task runs."""

    custom_operator_name = "@task"


class _BranchPythonDecoratedOperator(_PythonDecoratedOperator, BranchMixin):
    custom_operator_name = "@task.branch"

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


class _ShortCircuitDecoratedOperator(_PythonDecoratedOperator, ShortCircuitMixin):
    custom_operator_name = "@task.short_circuit"

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        super().__init__(**kwargs)

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_short_circuit(context, super().execute(context))


class _PythonVirtualenvDecoratedOperator(PythonVirtualenvOperator):
    custom_operator_name = "@task.virtualenv"


class _ExternalPythonDecoratedOperator(ExternalPythonOperator):
    custom_operator_name = "@task.external_python"


class _BranchPythonVirtualenvDecoratedOperator(BranchPythonVirtualenvOperator):
    custom_operator_name = "@task.branch_virtualenv"


class _BranchExternalPythonDecoratedOperator(BranchExternalPythonOperator):
    custom_operator_name = "@task.branch_external_python"


class _BashDecoratedOperator(BashOperator):
    """``@task.bash``: the function returns the command, rendered and run as BashOperator runs its own."""

    custom_operator_name = "@task.bash"
    template_fields: Sequence[str] = ("env", "cwd", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        kwargs.pop("bash_command", None)
        super().__init__(bash_command="", **kwargs)

    def execute(self, context: Mapping[str, Any]) -> Any:
        kwargs = callable_kwargs(self.python_callable, self.op_args, context, self.op_kwargs)
        command = self.python_callable(*self.op_args, **kwargs)
        if not isinstance(command, str) or not command.strip():
            raise TaskExecutionError(
                f"task {self.task_id!r}: a @task.bash function must return a non-empty string, "
                f"got {command!r}"
            )
        try:
            self.bash_command = self.render_template(command, context)
        except Exception as exc:
            raise TemplateError(
                f"task {self.task_id!r}: cannot render the command returned by the function: "
                f"{type(exc).__name__}: {exc}",
                task_id=self.task_id,
                field="bash_command",
            ) from exc
        return super().execute(context)
