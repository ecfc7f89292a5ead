"""What a mapped task or task group expands over: ``expand(name=list, ...)`` (the cross product of the
lists) or ``expand_kwargs(list_of_dicts)`` (one map index per dict); how many map indexes that makes, and
the values one map index takes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.resolvable import ResolveMixin, iter_upstream_references
from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY, LeafResolver, XComArg, mappable_items

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator

#: The name an ``expand_kwargs()`` input is stored under in ``SerializedTask.expand``.
KWARGS = "kwargs"
#: What ``expansion_length``'s lookup returns for an XCom that does not exist (yet).
UNAVAILABLE: Any = object()

ExpandKind = Literal["dict", "list"]


class ExpandInput:
    """The arguments of ``expand()`` (kind ``dict``: name -> list, dict or XComArg) or of ``expand_kwargs()``
    (kind ``list``: an XComArg resolving to a list of dicts, or a list whose items are dicts or XComArgs)."""

    def __init__(self, value: Any, *, kind: ExpandKind, where: str) -> None:
        self.kind = kind
        self.where = where
        if kind == "dict":
            if not value:
                raise DagDefinitionError(f"{where}: expand() needs at least one argument")
            self.value: Any = {name: _check_list_or_xcom(where, name, v) for name, v in value.items()}
        elif isinstance(value, XComArg):
            self.value = value
        elif isinstance(value, list | tuple) and all(isinstance(v, Mapping | XComArg) for v in value):
            self.value = [v if isinstance(v, XComArg) else dict(v) for v in value]
        else:
            raise DagDefinitionError(
                f"{where}: expand_kwargs() needs a list of dicts or an XComArg resolving to one, "
                f"not {type(value).__name__}"
            )

    def iter_references(self) -> Iterator[tuple[AbstractOperator, str]]:
        """The upstream XComs read, also those nested in literal values (a dict of ``expand_kwargs``)."""
        return iter_upstream_references(list(self.value.values()) if self.kind == "dict" else self.value)

    def spec(self) -> dict[str, dict[str, Any]]:
        """Plain data (``{"kind": "literal", "value": [...]}``, an XCom, or a map/zip/concat of XComs) per
        argument; an ``expand_kwargs()`` input is one entry named ``kwargs``."""
        if self.kind == "list":
            return {KWARGS: _arg_spec(self.value)}
        return {name: _arg_spec(value) for name, value in self.value.items()}

    def resolve(self, map_index: int, leaf: LeafResolver) -> dict[str, Any]:
        """The values of map index ``map_index``; ``leaf`` reads the whole value of a plain XComArg."""
        if self.kind == "list":
            return self._resolve_kwargs(map_index, leaf)
        items = {
            name: mappable_items(
                value.resolve_with(leaf) if isinstance(value, XComArg) else value,
                f"{self.where}: expand() argument {name!r}",
            )
            for name, value in self.value.items()
        }
        lengths = {name: len(values) for name, values in items.items()}
        self._check_index(map_index, math.prod(lengths.values()))
        positions = expansion_indexes(lengths, map_index)
        return {name: items[name][positions[name]] for name in items}

    def _resolve_kwargs(self, map_index: int, leaf: LeafResolver) -> dict[str, Any]:
        if isinstance(self.value, XComArg):
            items = mappable_items(self.value.resolve_with(leaf), f"{self.where}: expand_kwargs() input")
            self._check_index(map_index, len(items))
            item = items[map_index]
        else:
            self._check_index(map_index, len(self.value))
            item = self.value[map_index]
            if isinstance(item, XComArg):
                item = item.resolve_with(leaf)
        if not isinstance(item, Mapping):
            raise TaskExecutionError(
                f"{self.where}: expand_kwargs() needs a list of dicts; item {map_index} is "
                f"{type(item).__name__}"
            )
        for key in item:
            if not isinstance(key, str):
                raise TaskExecutionError(
                    f"{self.where}: expand_kwargs() item {map_index} has a key that is not a string: {key!r}"
                )
        return dict(item)

    def _check_index(self, map_index: int, total: int) -> None:
        if not 0 <= map_index < total:
            raise TaskExecutionError(
                f"{self.where}: map index {map_index} is out of range; the expansion has {total} element(s)"
            )


class MappedArgument(ResolveMixin):
    """What a parameter of an expanded ``@task_group`` function receives: the value of that argument for the
    group instance (map index) the task runs in."""

    def __init__(self, expand_input: ExpandInput, name: str) -> None:
        self.expand_input = expand_input
        self.name = name

    def __repr__(self) -> str:
        return f"MappedArgument({self.expand_input.where}, {self.name!r})"

    def iter_references(self) -> Iterator[tuple[AbstractOperator, str]]:
        return self.expand_input.iter_references()

    def resolve(self, context: Mapping[str, Any]) -> Any:
        map_index = context["ti"].map_index
        if map_index < 0:
            raise TaskExecutionError(
                f"{self.expand_input.where}: argument {self.name!r} has a value only in a task of the "
                "expanded group (with a map index)"
            )
        values = self.expand_input.resolve(map_index, lambda plain: plain.resolve(context))
        if self.name not in values:
            raise TaskExecutionError(
                f"{self.expand_input.where}: map index {map_index} gives no value for argument {self.name!r}"
            )
        return values[self.name]


def _check_list_or_xcom(where: str, name: str, value: Any) -> Any:
    if isinstance(value, XComArg):
        return value
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    kind = "a DAG param" if isinstance(value, ResolveMixin) else type(value).__name__
    if isinstance(value, MappedArgument):
        kind = "an argument of a mapped task group (mapping inside a mapped group is not supported)"
    raise DagDefinitionError(
        f"{where}: expand() argument {name!r} must be a list, a dict or an XComArg, not {kind}"
    )


def _arg_spec(value: Any) -> dict[str, Any]:
    if isinstance(value, XComArg):
        return value.spec()
    return {"kind": "literal", "value": value}


def expansion_indexes(lengths: Mapping[str, int], map_index: int) -> dict[str, int]:
    """Which element of each argument a map index takes: the cross product, last argument varying fastest."""
    positions: dict[str, int] = {}
    rest = map_index
    for name in reversed(list(lengths)):
        positions[name] = rest % lengths[name]
        rest //= lengths[name]
    return positions


def _field(arg: Any, name: str, default: Any = None) -> Any:
    if isinstance(arg, Mapping):
        return arg.get(name, default)
    return getattr(arg, name, default)


Lookup = Callable[[str, str], Any]


def arg_length(arg: Any, lookup: Lookup, name: str) -> int | None:
    """How many items one stored argument spec gives (dict or ``MappedArg``); None while an XCom it reads is
    ``UNAVAILABLE``. TaskExecutionError when a value is not a list or dict."""
    kind = _field(arg, "kind")
    if kind == "literal":
        return len(mappable_items(_field(arg, "value"), f"expand() argument {name!r}"))
    if kind == "xcom":
        task_id, key = _field(arg, "task_id"), _field(arg, "key", RETURN_VALUE_KEY)
        value = lookup(task_id, key)
        if value is UNAVAILABLE:
            return None
        return len(mappable_items(value, f"expand() argument {name!r} (XCom {key!r} of task {task_id!r})"))
    lengths = [arg_length(inner, lookup, name) for inner in _field(arg, "args") or []]
    if any(length is None for length in lengths):
        return None
    known = [length for length in lengths if length is not None]
    if kind == "map":
        return known[0]
    if kind == "zip":
        return max(known) if _field(arg, "has_fillvalue", False) else min(known)
    if kind == "concat":
        return sum(known)
    raise TaskExecutionError(f"expand() argument {name!r} has an unknown kind {kind!r}")


def expansion_length(
    expand_spec: Mapping[str, Any], upstream_values: Mapping[Any, Any] | Lookup
) -> int | None:
    """How many task instances a mapped task (or group) expands to, from its stored spec and the upstream
    XCom values: a mapping keyed by ``(task_id, key)`` (or by task id for ``return_value``), or a lookup
    ``(task_id, key) -> value | UNAVAILABLE``. None while an upstream value is not available."""
    lookup = upstream_values if callable(upstream_values) else _mapping_lookup(upstream_values)
    total = 1
    for name, arg in expand_spec.items():
        length = arg_length(arg, lookup, name)
        if length is None:
            return None
        total *= length
    return total


def _mapping_lookup(values: Mapping[Any, Any]) -> Lookup:
    def lookup(task_id: str, key: str) -> Any:
        if (task_id, key) in values:
            return values[(task_id, key)]
        if key == RETURN_VALUE_KEY and task_id in values:
            return values[task_id]
        return UNAVAILABLE

    return lookup


def spec_sources(expand_spec: Mapping[str, Any]) -> set[str]:
    """The task ids whose XComs a stored expand spec reads."""
    found: set[str] = set()
    stack = list(expand_spec.values())
    while stack:
        arg = stack.pop()
        if _field(arg, "kind") == "xcom":
            found.add(str(_field(arg, "task_id")))
        stack.extend(_field(arg, "args") or [])
    return found
