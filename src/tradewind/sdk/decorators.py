"""TaskFlow: ``@task`` (and .branch, .short_circuit, .bash), ``.partial().expand()`` on them, ``@setup`` /
``@teardown``, and ``@dag``."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG
from tradewind.sdk.definition_context import caller_site, current_dag, current_group
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.expand_input import ExpandInput, ExpandKind
from tradewind.sdk.mapped import NOT_MAPPABLE, MappedOperator
from tradewind.sdk.naming import unique_label
from tradewind.sdk.operators.decorated import (
    _BashDecoratedOperator,
    _BranchExternalPythonDecoratedOperator,
    _BranchPythonDecoratedOperator,
    _BranchPythonVirtualenvDecoratedOperator,
    _ExternalPythonDecoratedOperator,
    _PythonDecoratedOperator,
    _PythonVirtualenvDecoratedOperator,
    _ShortCircuitDecoratedOperator,
)
from tradewind.sdk.sensors.decorated import DecoratedSensorOperator
from tradewind.sdk.trigger_rule import TriggerRule
from tradewind.sdk.xcom_arg import XComArg


def _infer_multiple_outputs(function: Callable[..., Any]) -> bool:
    """A function annotated to return a dict (or a TypedDict) pushes each key as its own XCom."""
    try:
        returns = typing.get_type_hints(function).get("return")
    except Exception:
        return False
    if returns is None:
        return False
    origin = typing.get_origin(returns) or returns
    return origin is dict or typing.is_typeddict(returns)


class _TaskDecorator:
    """A decorated function: calling it inside a DAG adds a task and returns its XComArg."""

    #: Set by ``@setup`` / ``@teardown``: every task this decorator makes is a setup (teardown) task.
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False

    def __init__(
        self, function: Callable[..., Any], operator_class: type[BaseOperator], options: dict[str, Any]
    ):
        if not callable(function):
            raise DagDefinitionError(f"@task needs a function, got {function!r}")
        self.function = function
        self.operator_class = operator_class
        self.options = options
        self.signature = inspect.signature(function)
        functools.update_wrapper(self, function)

    def override(self, **options: Any) -> _TaskDecorator:
        """The same task with other operator options, e.g. ``extract.override(task_id="x", retries=3)()``."""
        copy = _TaskDecorator(self.function, self.operator_class, {**self.options, **options})
        copy.is_setup, copy.is_teardown = self.is_setup, self.is_teardown
        copy.on_failure_fail_dagrun = self.on_failure_fail_dagrun
        return copy

    def _role_options(self, options: dict[str, Any], task_id: str) -> dict[str, Any]:
        """A teardown's trigger rule is fixed (``all_done_setup_success``); asking for another is an error."""
        if not self.is_teardown:
            return options
        if "trigger_rule" in self.options:
            raise DagDefinitionError(f"task {task_id!r}: a teardown task's trigger_rule cannot be set")
        return {**options, "trigger_rule": TriggerRule.ALL_DONE_SETUP_SUCCESS}

    def _mark(self, op: Any) -> None:
        if self.is_setup:
            op.is_setup = True
        if self.is_teardown:
            op.is_teardown = True
            op.on_failure_fail_dagrun = self.on_failure_fail_dagrun

    def _task_id(self) -> str:
        label = self.options.get("task_id") or self.function.__name__
        group = self.options.get("task_group") or current_group()
        dag = self.options.get("dag") or (group.dag if group is not None else None) or current_dag()
        if dag is None:
            return str(label)
        group = group or dag.task_group
        taken = set(dag.task_dict) | set(dag.task_group_dict)
        return unique_label(str(label), taken, group.child_id)

    def _operator_kwargs(self, task_id: str) -> dict[str, Any]:
        kwargs = dict(self.options)
        kwargs["task_id"] = task_id
        kwargs["python_callable"] = self.function
        if "multiple_outputs" not in kwargs and self.operator_class is not _BashDecoratedOperator:
            kwargs["multiple_outputs"] = _infer_multiple_outputs(self.function)
        return kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        task_id = self._task_id()
        try:
            self.signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise DagDefinitionError(f"task {task_id!r}: {exc}") from None
        options = self._role_options(self._operator_kwargs(task_id), task_id)
        options.update(op_args=list(args), op_kwargs=kwargs)
        op = self.operator_class(**options)
        self._mark(op)
        return XComArg(op)

    def partial(self, **kwargs: Any) -> _DecoratedPartial:
        return _DecoratedPartial(self, kwargs)

    def expand(self, **mapped: Any) -> XComArg:
        """One task instance per element of the mapped argument(s)."""
        return _DecoratedPartial(self, {}).expand(**mapped)

    def expand_kwargs(self, kwargs: Any, *, strict: bool = True) -> XComArg:
        """One task instance per dict of ``kwargs``; each dict gives that instance's function arguments."""
        return _DecoratedPartial(self, {}).expand_kwargs(kwargs, strict=strict)


class _DecoratedPartial:
    def __init__(self, decorator: _TaskDecorator, kwargs: dict[str, Any]) -> None:
        self.decorator = decorator
        self.kwargs = kwargs
        self._check_names(kwargs, "partial")

    def _check_names(self, names: dict[str, Any], call: str) -> None:
        params = self.decorator.signature.parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        unknown = sorted(set(names) - set(params))
        if unknown:
            raise DagDefinitionError(
                f"task {self.decorator.function.__name__!r}: {call}() got unknown argument(s): "
                + ", ".join(unknown)
            )

    def expand(self, **mapped: Any) -> XComArg:
        self._check_names(mapped, "expand")
        name = self.decorator.function.__name__
        for arg in mapped:
            if arg in self.kwargs:
                raise DagDefinitionError(
                    f"task {name!r}: argument {arg!r} is given to both partial() and expand()"
                )
            if arg in NOT_MAPPABLE:
                raise DagDefinitionError(f"task {name!r}: cannot map over argument {arg!r}")
        return self._mapped(mapped, "dict")

    def expand_kwargs(self, kwargs: Any, *, strict: bool = True) -> XComArg:
        """One task instance per dict of ``kwargs`` (a list of dicts, or an XComArg resolving to one);
        each dict gives that instance's function arguments."""
        return self._mapped(kwargs, "list")

    def _mapped(self, value: Any, kind: ExpandKind) -> XComArg:
        task_id = self.decorator._task_id()
        kwargs = self.decorator._role_options(self.decorator._operator_kwargs(task_id), task_id)
        kwargs["op_args"] = []
        kwargs["op_kwargs"] = dict(self.kwargs)
        op = MappedOperator(
            operator_class=self.decorator.operator_class,
            partial_kwargs=kwargs,
            expand_input=ExpandInput(value, kind=kind, where=f"task {task_id!r}"),
            expand_into="op_kwargs",
            site=caller_site(),
        )
        self.decorator._mark(op)
        return XComArg(op)


def _decorator_for(operator_class: type[BaseOperator]) -> Callable[..., Any]:
    def decorate(python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        if python_callable is not None:
            return _TaskDecorator(python_callable, operator_class, options)
        return lambda function: _TaskDecorator(function, operator_class, options)

    return decorate


class _TaskDecoratorCollection:
    """``@task``, ``@task(retries=2)``, ``@task.branch``, ``@task.short_circuit``, ``@task.bash``,
    ``@task.sensor``."""

    def __init__(self) -> None:
        self.python = _decorator_for(_PythonDecoratedOperator)
        self.branch = _decorator_for(_BranchPythonDecoratedOperator)
        self.short_circuit = _decorator_for(_ShortCircuitDecoratedOperator)
        self.bash = _decorator_for(_BashDecoratedOperator)
        self.virtualenv = _decorator_for(_PythonVirtualenvDecoratedOperator)
        self.external_python = _decorator_for(_ExternalPythonDecoratedOperator)
        self.branch_virtualenv = _decorator_for(_BranchPythonVirtualenvDecoratedOperator)
        self.branch_external_python = _decorator_for(_BranchExternalPythonDecoratedOperator)
        self.sensor = _decorator_for(DecoratedSensorOperator)

    def __call__(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self.python(python_callable, **options)


task = _TaskDecoratorCollection()


def _as_task_decorator(function: Any, role: str) -> _TaskDecorator:
    if isinstance(function, _TaskDecorator):
        return function
    if inspect.isfunction(function):
        decorated: _TaskDecorator = task.python(function)
        return decorated
    raise DagDefinitionError(
        f"@{role} takes a function or an @task-decorated function (task groups cannot be {role} tasks); "
        f"got {function!r}"
    )


def setup(python_callable: Callable[..., Any]) -> _TaskDecorator:
    """``@setup`` on a function (or above ``@task...``): every task it makes is a setup task."""
    decorator = _as_task_decorator(python_callable, "setup")
    decorator.is_setup = True
    return decorator


def teardown(
    python_callable: Callable[..., Any] | None = None, *, on_failure_fail_dagrun: bool = False
) -> Any:
    """``@teardown`` or ``@teardown(on_failure_fail_dagrun=True)``: every task it makes is a teardown task,
    run once its upstream work is done whatever the outcome, if one of its setups succeeded."""

    def mark(function: Callable[..., Any]) -> _TaskDecorator:
        decorator = _as_task_decorator(function, "teardown")
        decorator.is_teardown = True
        decorator.on_failure_fail_dagrun = on_failure_fail_dagrun
        return decorator

    return mark(python_callable) if python_callable is not None else mark


def _dag_factory(
    function: Callable[..., Any], dag_id: str | None, dag_kwargs: dict[str, Any]
) -> Callable[..., DAG]:
    signature = inspect.signature(function)
    kinds = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )

    @functools.wraps(function)
    def factory(*args: Any, **kwargs: Any) -> DAG:
        bound = signature.bind_partial(*args, **kwargs)
        bound.apply_defaults()
        options = dict(dag_kwargs)
        if options.get("doc_md") is None and function.__doc__:
            options["doc_md"] = inspect.cleandoc(function.__doc__)
        with DAG(dag_id or function.__name__, **options) as new_dag:
            # Each parameter becomes a DAG param; the function receives references resolved at run time.
            positional: list[Any] = []
            keywords: dict[str, Any] = {}
            for name, param in signature.parameters.items():
                if param.kind not in kinds:
                    continue
                ref = (
                    new_dag.param(name, bound.arguments[name])
                    if name in bound.arguments
                    else new_dag.param(name)
                )
                if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                    positional.append(ref)
                else:
                    keywords[name] = ref
            function(*positional, **keywords)
        return new_dag

    return factory


def dag(dag_id: Any = None, **dag_kwargs: Any) -> Any:
    """``@dag`` or ``@dag(schedule=..., start_date=...)``: calling the decorated function returns the DAG,
    named after the function unless ``dag_id`` is given; its parameters become the DAG's params."""
    if callable(dag_id):
        return _dag_factory(dag_id, None, dag_kwargs)
    return lambda function: _dag_factory(function, dag_id, dag_kwargs)
