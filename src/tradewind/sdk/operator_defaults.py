"""``default_args``: merging them from the DAG, enclosing task groups and the call, and applying them to
every operator ``__init__`` (explicit arguments win), as Airflow's operator metaclass does."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from tradewind.sdk.definition_context import current_dag, current_group, is_detached
from tradewind.sdk.errors import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.sdk.taskgroup import TaskGroup

F = TypeVar("F", bound=Callable[..., None])


class MergedDefaultArgs(dict[str, Any]):
    """default_args already merged from the DAG, the task groups and the operator call."""


def merged_default_args(kwargs: Mapping[str, Any]) -> MergedDefaultArgs:
    explicit = kwargs.get("default_args")
    if isinstance(explicit, MergedDefaultArgs):
        return explicit
    group: TaskGroup | None = kwargs.get("task_group")
    dag = kwargs.get("dag")
    if not is_detached():
        group = group or current_group()
        dag = dag or (group.dag if group is not None else None) or current_dag()
    merged: dict[str, Any] = {}
    if dag is not None:
        merged.update(dag.default_args)
    groups: list[TaskGroup] = []
    while group is not None:
        groups.append(group)
        group = group.parent_group
    for enclosing in reversed(groups):
        merged.update(enclosing.default_args)
    if explicit:
        merged.update(explicit)
    return MergedDefaultArgs(merged)


def _keyword_names(init: Callable[..., Any]) -> tuple[list[str], list[str], bool]:
    params = list(inspect.signature(init).parameters.values())[1:]  # drop self
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in params if p.kind in kinds]
    required = [p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]
    has_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    return names, required, has_var_kw


def accepted_parameters(cls: type) -> set[str]:
    """Every keyword an operator class accepts, across the ``__init__`` methods of its bases."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        found, _, _ = _keyword_names(getattr(init, "__wrapped__", init))
        names.update(found)
    return names


def apply_default_args(init: F) -> F:
    """Wrap an operator ``__init__``: keyword arguments only, default_args applied, required ones checked."""
    names, required, has_var_kw = _keyword_names(init)
    passes_default_args = has_var_kw or "default_args" in names

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        cls_name = type(self).__name__
        if args:
            raise DagDefinitionError(
                f"{cls_name}(task_id={kwargs.get('task_id')!r}): pass operator arguments by keyword"
            )
        default_args = merged_default_args(kwargs)
        if passes_default_args:
            kwargs["default_args"] = default_args
        else:
            kwargs.pop("default_args", None)
        for name in names:
            if name not in kwargs and name in default_args:
                kwargs[name] = default_args[name]
        if "params" in names and isinstance(default_args.get("params"), Mapping):
            kwargs["params"] = {**default_args["params"], **(kwargs.get("params") or {})}
        if not has_var_kw:
            unknown = sorted(set(kwargs) - set(names))
            if unknown:
                raise DagDefinitionError(
                    f"{cls_name}(task_id={kwargs.get('task_id')!r}) got invalid argument(s): "
                    + ", ".join(unknown)
                )
        missing = [name for name in required if name not in kwargs]
        if missing:
            raise DagDefinitionError(
                f"{cls_name}(task_id={kwargs.get('task_id')!r}) is missing required argument(s): "
                + ", ".join(missing)
            )
        depth = self.__dict__.get("_tw_init_depth", 0)
        self.__dict__["_tw_init_depth"] = depth + 1
        try:
            init(self, **kwargs)
        finally:
            self.__dict__["_tw_init_depth"] = depth
        if depth == 0:
            self._after_init()

    return wrapper  # type: ignore[return-value]
