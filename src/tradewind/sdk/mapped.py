"""Dynamic task mapping: ``Operator.partial(...).expand(arg=[...])`` / ``.expand_kwargs([...])`` and the
concrete operator of one map index."""

from __future__ import annotations

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
from tradewind.sdk.expand_input import ExpandInput, expansion_indexes, expansion_length
from tradewind.sdk.operator_defaults import accepted_parameters, merged_default_args
from tradewind.sdk.resolvable import iter_upstream_references

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator

__all__ = [
    "NOT_MAPPABLE", "MappedOperator", "OperatorPartial", "expansion_indexes", "expansion_length",
    "resolve_expand_args",
]  # fmt: skip

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
    """``Operator.partial(**kwargs)``: the arguments shared by every mapped copy, waiting for ``.expand`` or
    ``.expand_kwargs``."""

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

    def _where(self) -> str:
        return f"{self.operator_class.__name__}(task_id={self.kwargs['task_id']!r})"

    def expand(self, **mapped: Any) -> MappedOperator:
        """One task instance per element (per combination when several arguments are mapped)."""
        accepted = accepted_parameters(self.operator_class)
        for name in mapped:
            if name in NOT_MAPPABLE or name not in accepted:
                raise DagDefinitionError(f"{self._where()}: cannot map over argument {name!r}")
            if name in self.kwargs:
                raise DagDefinitionError(
                    f"{self._where()}: argument {name!r} is given to both partial() and expand()"
                )
        return self._mapped(ExpandInput(mapped, kind="dict", where=f"task {self._full_id()!r}"))

    def expand_kwargs(self, kwargs: Any, *, strict: bool = True) -> MappedOperator:
        """One task instance per dict of ``kwargs`` (a list of dicts, or an XComArg resolving to one); each
        dict gives that instance's arguments."""
        return self._mapped(ExpandInput(kwargs, kind="list", where=f"task {self._full_id()!r}"))

    def _full_id(self) -> str:
        group = self.kwargs.get("task_group") or current_group()
        label = str(self.kwargs["task_id"])
        return group.child_id(label) if group is not None else label

    def _mapped(self, expand_input: ExpandInput) -> MappedOperator:
        return MappedOperator(
            operator_class=self.operator_class,
            partial_kwargs=self.kwargs,
            expand_input=expand_input,
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
        expand_input: ExpandInput | Mapping[str, Any],
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
        mapped_group = self.closest_mapped_group()
        if mapped_group is not None:
            raise DagDefinitionError(
                f"task {full_id!r}: mapping a task inside the mapped task group {mapped_group.group_id!r} "
                "is not supported by Tradewind"
            )
        self.operator_class = operator_class
        self.partial_kwargs = kwargs
        if not isinstance(expand_input, ExpandInput):
            expand_input = ExpandInput(expand_input, kind="dict", where=f"task {full_id!r}")
        self.expand_input = expand_input
        self.expand_into = expand_into
        self.template_fields = tuple(operator_class.template_fields)
        self.template_ext = tuple(operator_class.template_ext)
        self.template_fields_renderers = dict(operator_class.template_fields_renderers)
        self.ui_color = operator_class.ui_color
        with detached_definitions():
            self._prototype = operator_class.mapping_prototype(full_id, kwargs)
        if dag is not None and not is_detached():
            dag.add_task(self)
            for upstream, _key in self.expand_input.iter_references():
                upstream.set_downstream(self)
            for value in self.partial_kwargs.values():
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

    @property
    def is_expand_kwargs(self) -> bool:
        return self.expand_input.kind == "list"

    def expand_spec(self) -> dict[str, dict[str, Any]]:
        """The expand arguments as plain data: ``{"kind": "literal", "value": [...]}``, an XCom
        (``{"kind": "xcom", "task_id": ..., "key": ...}``) or a map/zip/concat of XComs (``"args"``)."""
        return self.expand_input.spec()

    def unmap(self, resolved: Mapping[str, Any]) -> BaseOperator:
        """The concrete operator of one map index, given that index's values of the expand arguments."""
        if self.is_expand_kwargs and self.expand_into is None:
            self._check_kwargs(resolved)
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

    def _check_kwargs(self, resolved: Mapping[str, Any]) -> None:
        accepted = accepted_parameters(self.operator_class)
        for name in resolved:
            if name in NOT_MAPPABLE or name not in accepted:
                raise TaskExecutionError(
                    f"task {self.task_id!r}: expand_kwargs() gives argument {name!r}, which "
                    f"{self.operator_name} cannot take per map index"
                )
            if name in self.partial_kwargs:
                raise TaskExecutionError(
                    f"task {self.task_id!r}: expand_kwargs() gives argument {name!r}, already given to partial()"
                )


def resolve_expand_args(
    mapped: MappedOperator, map_index: int, xcom_pull: Callable[[str, str], Any]
) -> dict[str, Any]:
    """The values of the expand arguments for one map index; ``xcom_pull(task_id, key)`` reads upstream XComs
    (a mapped upstream gives the list of all its map indexes' values)."""
    return mapped.expand_input.resolve(map_index, lambda plain: xcom_pull(plain.operator.task_id, plain.key))
