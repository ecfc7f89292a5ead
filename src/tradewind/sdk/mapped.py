"""Dynamic task mapping: ``Operator.partial(...).expand(arg=[...])`` and how one map index gets its values."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.definition_context import (
    DefinitionSite,
    caller_site,
    current_dag,
    current_group,
    detached_definitions,
    is_detached,
)
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.operator_defaults import accepted_parameters, merged_default_args
from tradewind.sdk.resolvable import ResolveMixin, iter_upstream_references
from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY, XComArg

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator

#: Arguments that say where a task lives rather than what it does: never mapped.
NOT_MAPPABLE = frozenset({"task_id", "dag", "task_group", "default_args"})

#: Task settings a mapped task reads from its normalised prototype.
_DELEGATED = frozenset(
    {
        "owner", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
        "execution_timeout",
        "trigger_rule", "pool", "pool_slots", "priority_weight", "weight_rule", "queue", "depends_on_past",
        "executor_config", "do_xcom_push", "multiple_outputs", "on_failure_callback", "on_success_callback",
        "on_retry_callback", "doc_md", "params", "start_date", "end_date", "email", "email_on_failure",
        "email_on_retry",
    }
)  # fmt: skip


class OperatorPartial:
    """``Operator.partial(**kwargs)``: the arguments shared by every mapped copy, waiting for ``.expand``."""

    def __init__(
        self, operator_class: type[BaseOperator], kwargs: dict[str, Any], *, site: DefinitionSite | None
    ):
        if "task_id" not in kwargs:
            raise DagDefinitionError(f"{operator_class.__name__}.partial() needs task_id=")
        accepted = accepted_parameters(operator_class)
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise DagDefinitionError(
                f"{operator_class.__name__}.partial(task_id={kwargs['task_id']!r}) got unknown argument(s): "
                + ", ".join(unknown)
            )
        self.operator_class = operator_class
        self.kwargs = kwargs
        self.site = site

    def expand(self, **mapped: Any) -> MappedOperator:
        """One task instance per element (per combination when several arguments are mapped)."""
        task_id = self.kwargs["task_id"]
        accepted = accepted_parameters(self.operator_class)
        for name in mapped:
            if name in NOT_MAPPABLE or name not in accepted:
                raise DagDefinitionError(
                    f"{self.operator_class.__name__}(task_id={task_id!r}): cannot map over argument {name!r}"
                )
            if name in self.kwargs:
                raise DagDefinitionError(
                    f"{self.operator_class.__name__}(task_id={task_id!r}): argument {name!r} is given to "
                    "both partial() and expand()"
                )
        return MappedOperator(
            operator_class=self.operator_class,
            partial_kwargs=self.kwargs,
            expand_input=mapped,
            expand_into=None,
            site=self.site,
        )


class MappedOperator(AbstractOperator):
    """A task that becomes one task instance per map index once its expand arguments are known."""

    is_mapped = True

    def __init__(
        self,
        *,
        operator_class: type[BaseOperator],
        partial_kwargs: Mapping[str, Any],
        expand_input: Mapping[str, Any],
        expand_into: str | None,
        site: DefinitionSite | None = None,
    ) -> None:
        kwargs = dict(partial_kwargs)
        task_group = kwargs.pop("task_group", None)
        dag = kwargs.pop("dag", None)
        if not is_detached():
            task_group = task_group or current_group()
            dag = dag or (task_group.dag if task_group is not None else None) or current_dag()
        if task_group is None and dag is not None:
            task_group = dag.task_group
        defaults = merged_default_args({"dag": dag, "task_group": task_group, **kwargs})
        kwargs.pop("default_args", None)
        for name in accepted_parameters(operator_class) - NOT_MAPPABLE:
            if name not in kwargs and name in defaults:
                kwargs[name] = defaults[name]
        label = str(kwargs.pop("task_id"))
        full_id = task_group.child_id(label) if task_group is not None else label
        self._init_node(full_id, task_group, site or caller_site())
        self.operator_class = operator_class
        self.partial_kwargs = kwargs
        self.expand_input = {
            name: _check_expand_value(full_id, name, value) for name, value in expand_input.items()
        }
        if not self.expand_input:
            raise DagDefinitionError(f"task {full_id!r}: expand() needs at least one argument")
        self.expand_into = expand_into
        self.template_fields = tuple(operator_class.template_fields)
        self.template_ext = tuple(operator_class.template_ext)
        self.template_fields_renderers = dict(operator_class.template_fields_renderers)
        self.ui_color = operator_class.ui_color
        with detached_definitions():
            self._prototype = operator_class.mapping_prototype(full_id, kwargs)
        if dag is not None and not is_detached():
            dag.add_task(self)
            for value in (*self.expand_input.values(), *self.partial_kwargs.values()):
                for upstream, _key in iter_upstream_references(value):
                    upstream.set_downstream(self)

    def __getattr__(self, name: str) -> Any:
        prototype = self.__dict__.get("_prototype")
        if name in _DELEGATED and prototype is not None:
            return getattr(prototype, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def operator_name(self) -> str:
        return self.operator_class.__name__

    def expand_spec(self) -> dict[str, dict[str, Any]]:
        """The expand arguments as plain data: ``{"kind": "literal", "value": [...]}`` or an XCom."""
        spec: dict[str, dict[str, Any]] = {}
        for name, value in self.expand_input.items():
            if isinstance(value, XComArg):
                spec[name] = {"kind": "xcom", "task_id": value.operator.task_id, "key": value.key}
            else:
                spec[name] = {"kind": "literal", "value": value}
        return spec

    def unmap(self, resolved: Mapping[str, Any]) -> BaseOperator:
        """The concrete operator of one map index, given that index's values of the expand arguments."""
        kwargs = dict(self.partial_kwargs)
        if self.expand_into is not None:
            kwargs[self.expand_into] = {**(kwargs.get(self.expand_into) or {}), **resolved}
        else:
            kwargs.update(resolved)
        with detached_definitions():
            op = self.operator_class(task_id=self.task_id, **kwargs)
        op._dag = self._dag
        op.task_group = self.task_group
        op.definition_site = self.definition_site
        op.upstream_task_ids = set(self.upstream_task_ids)
        op.downstream_task_ids = set(self.downstream_task_ids)
        return op


def _check_expand_value(task_id: str, name: str, value: Any) -> Any:
    if isinstance(value, XComArg):
        return value
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    kind = "a DAG param" if isinstance(value, ResolveMixin) else type(value).__name__
    raise DagDefinitionError(
        f"task {task_id!r}: expand() argument {name!r} must be a list, a dict or an XComArg, not {kind}"
    )


def _length(task_id: str, name: str, value: Any) -> int:
    if isinstance(value, list | tuple | dict):
        return len(value)
    raise TaskExecutionError(
        f"task {task_id!r}: expand() argument {name!r} resolved to {type(value).__name__}; "
        "only lists and dicts can be mapped over"
    )


def _element(value: Any, index: int) -> Any:
    if isinstance(value, dict):
        key = list(value)[index]
        return (key, value[key])
    return value[index]


def expansion_indexes(lengths: Mapping[str, int], map_index: int) -> dict[str, int]:
    """Which element of each argument a map index takes: the cross product, last argument varying fastest."""
    positions: dict[str, int] = {}
    rest = map_index
    for name in reversed(list(lengths)):
        positions[name] = rest % lengths[name]
        rest //= lengths[name]
    return positions


def resolve_expand_args(
    mapped: MappedOperator, map_index: int, xcom_pull: Callable[[str, str], Any]
) -> dict[str, Any]:
    """The values of the expand arguments for one map index; ``xcom_pull(task_id, key)`` reads upstream XComs
    (a mapped upstream gives the list of all its map indexes' values)."""
    values: dict[str, Any] = {}
    for name, arg in mapped.expand_input.items():
        if isinstance(arg, XComArg):
            values[name] = xcom_pull(arg.operator.task_id, arg.key)
        else:
            values[name] = arg
    lengths = {name: _length(mapped.task_id, name, value) for name, value in values.items()}
    total = math.prod(lengths.values())
    if not 0 <= map_index < total:
        raise TaskExecutionError(
            f"task {mapped.task_id!r}: map index {map_index} is out of range; "
            f"the expansion has {total} element(s)"
        )
    positions = expansion_indexes(lengths, map_index)
    return {name: _element(values[name], positions[name]) for name in values}


def _field(arg: Any, name: str, default: Any = None) -> Any:
    if isinstance(arg, Mapping):
        return arg.get(name, default)
    return getattr(arg, name, default)


def expansion_length(expand_spec: Mapping[str, Any], upstream_values: Mapping[Any, Any]) -> int | None:
    """How many task instances a mapped task expands to, from plain data (``SerializedTask.expand`` or
    ``MappedOperator.expand_spec()``) and the upstream XCom values keyed by ``(task_id, key)`` (or by task id
    for ``return_value``). None while an upstream value is not available."""
    total = 1
    for name, arg in expand_spec.items():
        if _field(arg, "kind") == "literal":
            value = _field(arg, "value")
        else:
            task_id, key = _field(arg, "task_id"), _field(arg, "key", RETURN_VALUE_KEY)
            if (task_id, key) in upstream_values:
                value = upstream_values[(task_id, key)]
            elif key == RETURN_VALUE_KEY and task_id in upstream_values:
                value = upstream_values[task_id]
            else:
                return None
        total *= _length(str(_field(arg, "task_id") or name), name, value)
    return total
