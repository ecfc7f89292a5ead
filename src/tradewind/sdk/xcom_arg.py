"""XComArg: a reference to an upstream task's XCom, resolved when the downstream task runs; and the lazy
views built on it (``.map(fn)``, ``.zip(...)``, ``.concat(...)``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from tradewind.sdk.dependencies import DependencyMixin
from tradewind.sdk.errors import DagDefinitionError, NotFoundError, TaskExecutionError
from tradewind.sdk.resolvable import ResolveMixin
from tradewind.sdk.setup_teardown import enter_scope, exit_scope, mark_teardown

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator

RETURN_VALUE_KEY = "return_value"
_ABSENT = object()
#: ``zip()`` without a fillvalue stops at the shortest input, as the built-in zip.
NO_FILLVALUE: Any = object()

#: Resolves one plain XComArg to its whole value (the list of values for a mapped upstream).
LeafResolver = Callable[["XComArg"], Any]


class XComArg(ResolveMixin, DependencyMixin):
    """``task.output`` or what calling an ``@task`` function returns; ``xcom_arg["key"]`` picks another key.

    Passing it to another task makes that task depend on this one. When the upstream task is mapped the
    value is the list of every map index's value, in index order. Inside a mapped task group, a reference to
    another task of the same group instance reads that instance's value (the same map index).
    """

    def __init__(self, operator: AbstractOperator, key: str = RETURN_VALUE_KEY) -> None:
        self.operator = operator
        self.key = key

    def __getitem__(self, key: str) -> XComArg:
        return XComArg(self.operator, key)

    def __iter__(self) -> NoReturn:
        raise TypeError(
            f"an XComArg of task {self.operator.task_id!r} has no value while the DAG is defined; "
            "iterate over it inside a task, or map over it with .expand()"
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.operator is self.operator and other.key == self.key

    def __hash__(self) -> int:
        return hash((id(self.operator), self.key))

    def __repr__(self) -> str:
        if self.key == RETURN_VALUE_KEY:
            return f"XComArg(task_id={self.operator.task_id!r})"
        return f"XComArg(task_id={self.operator.task_id!r}, key={self.key!r})"

    # -- lazy transforms ------------------------------------------------------------------------------

    def map(self, f: Callable[[Any], Any]) -> MapXComArg:
        """Each item passed through ``f`` when it is read (a mapped task reads only its own item)."""
        self._check_return_value("map")
        return MapXComArg(self, [f])

    def zip(self, *others: XComArg, fillvalue: Any = NO_FILLVALUE) -> ZipXComArg:
        """Tuples of the i-th items; up to the shortest input, or the longest padded with ``fillvalue``."""
        self._check_return_value("zip")
        return ZipXComArg([self, *others], fillvalue=fillvalue)

    def concat(self, *others: XComArg) -> ConcatXComArg:
        """The items of this value, then of each of ``others``."""
        self._check_return_value("concat")
        return ConcatXComArg([self, *others])

    def _check_return_value(self, call: str) -> None:
        if self.key != RETURN_VALUE_KEY:
            raise DagDefinitionError(
                f"{call}() on the XCom {self.key!r} of task {self.operator.task_id!r}: only a task's return "
                "value can be mapped, zipped or concatenated"
            )

    # -- references and resolution -------------------------------------------------------------------

    def dependency_roots(self) -> list[AbstractOperator]:
        return [op for op, _ in self.iter_references()]

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [op for op, _ in self.iter_references()]

    def iter_references(self) -> Iterator[tuple[AbstractOperator, str]]:
        yield self.operator, self.key

    # -- setup and teardown: the task(s) behind the reference (Airflow's PlainXComArg methods) ----------

    @property
    def is_setup(self) -> bool:
        return all(op.is_setup for op, _ in self.iter_references())

    @property
    def is_teardown(self) -> bool:
        return all(op.is_teardown for op, _ in self.iter_references())

    def as_setup(self) -> XComArg:
        for op, _ in self.iter_references():
            op.is_setup = True
        return self

    def as_teardown(self, *, setups: object = None, on_failure_fail_dagrun: bool | None = None) -> XComArg:
        for op, _ in self.iter_references():
            mark_teardown(op, setups=setups, on_failure_fail_dagrun=on_failure_fail_dagrun)
        return self

    def __enter__(self) -> XComArg:
        enter_scope([op for op, _ in self.iter_references()])
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        exit_scope()

    def spec(self) -> dict[str, Any]:
        """Plain data for the stored DAG: enough for the scheduler to count items."""
        return {"kind": "xcom", "task_id": self.operator.task_id, "key": self.key}

    def resolve_with(self, leaf: LeafResolver) -> Any:
        """The value, reading each referenced XCom through ``leaf``."""
        return leaf(self)

    def resolve(self, context: Mapping[str, Any]) -> Any:
        return self.resolve_with(lambda plain: plain._pull(context))

    def _pull(self, context: Mapping[str, Any]) -> Any:
        ti = context["ti"]
        map_indexes = None
        if ti.map_index >= 0 and _same_mapped_group(self.operator, context.get("task")):
            map_indexes = ti.map_index
        value = ti.xcom_pull(
            task_ids=self.operator.task_id, key=self.key, map_indexes=map_indexes, default=_ABSENT
        )
        if value is _ABSENT:
            if self.key == RETURN_VALUE_KEY:  # a task that returned None pushed nothing
                return None
            raise NotFoundError(
                f"no XCom {self.key!r} from task {self.operator.task_id!r} in run {context.get('run_id')!r}",
                kind="xcom",
                ident=f"{self.operator.task_id}:{self.key}",
            )
        return value


def _same_mapped_group(upstream: AbstractOperator, task: Any) -> bool:
    """Whether ``upstream`` is an unmapped task of the mapped task group instance ``task`` runs in."""
    if task is None or upstream.is_mapped:
        return False
    group = upstream.closest_mapped_group()
    return group is not None and group is task.closest_mapped_group()


def mappable_items(value: Any, what: str) -> Sequence[Any]:
    """A value to map over as a sequence: a list as is, a dict as its ``(key, value)`` pairs."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    raise TaskExecutionError(
        f"{what} resolved to {type(value).__name__}; only lists and dicts can be mapped over"
    )


class _DerivedXComArg(XComArg):
    """An XComArg computed from others; it has no key of its own."""

    def __init__(self, args: Sequence[XComArg]) -> None:
        for arg in args:
            if not isinstance(arg, XComArg):
                raise DagDefinitionError(
                    f"expected XComArgs (task outputs), got {type(arg).__name__}: {arg!r}"
                )
        super().__init__(args[0].operator)
        self.args = list(args)

    def __getitem__(self, key: str) -> XComArg:
        raise TypeError(f"{self!r} has no XCom keys; index the task's output before transforming it")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def iter_references(self) -> Iterator[tuple[AbstractOperator, str]]:
        for arg in self.args:
            yield from arg.iter_references()


class MapXComArg(_DerivedXComArg):
    def __init__(self, arg: XComArg, callables: Sequence[Callable[[Any], Any]]) -> None:
        for f in callables:
            if not callable(f) or (hasattr(f, "partial") and hasattr(f, "expand")):
                raise DagDefinitionError(f"map() needs a plain function, not {f!r}")
        super().__init__([arg])
        self.callables = list(callables)

    def __repr__(self) -> str:
        calls = "".join(f".map({getattr(f, '__name__', 'function')})" for f in self.callables)
        return f"{self.args[0]!r}{calls}"

    def map(self, f: Callable[[Any], Any]) -> MapXComArg:
        return MapXComArg(self.args[0], [*self.callables, f])

    def spec(self) -> dict[str, Any]:
        return {"kind": "map", "args": [self.args[0].spec()]}

    def resolve_with(self, leaf: LeafResolver) -> Any:
        return MappedItems(
            mappable_items(self.args[0].resolve_with(leaf), repr(self.args[0])), self.callables
        )


class ZipXComArg(_DerivedXComArg):
    def __init__(self, args: Sequence[XComArg], *, fillvalue: Any = NO_FILLVALUE) -> None:
        super().__init__(args)
        self.fillvalue = fillvalue

    def __repr__(self) -> str:
        rest = ", ".join(repr(a) for a in self.args[1:])
        fill = "" if self.fillvalue is NO_FILLVALUE else f", fillvalue={self.fillvalue!r}"
        return f"{self.args[0]!r}.zip({rest}{fill})"

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "zip", "args": [a.spec() for a in self.args]}
        if self.fillvalue is not NO_FILLVALUE:
            spec.update(has_fillvalue=True, fillvalue=self.fillvalue)
        return spec

    def resolve_with(self, leaf: LeafResolver) -> Any:
        values = [mappable_items(a.resolve_with(leaf), repr(a)) for a in self.args]
        return ZippedItems(values, self.fillvalue)


class ConcatXComArg(_DerivedXComArg):
    def __repr__(self) -> str:
        return f"{self.args[0]!r}.concat({', '.join(repr(a) for a in self.args[1:])})"

    def concat(self, *others: XComArg) -> ConcatXComArg:
        return ConcatXComArg([*self.args, *others])

    def spec(self) -> dict[str, Any]:
        return {"kind": "concat", "args": [a.spec() for a in self.args]}

    def resolve_with(self, leaf: LeafResolver) -> Any:
        return ConcatenatedItems([mappable_items(a.resolve_with(leaf), repr(a)) for a in self.args])


class MappedItems(Sequence[Any]):
    """The items of a value, each passed through the map functions only when read."""

    def __init__(self, items: Sequence[Any], callables: Sequence[Callable[[Any], Any]]) -> None:
        self._items = items
        self._callables = callables

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        value = self._items[index]
        for f in self._callables:
            value = f(value)
        return value


class ZippedItems(Sequence[Any]):
    def __init__(self, values: Sequence[Sequence[Any]], fillvalue: Any) -> None:
        self._values = values
        self._fillvalue = fillvalue

    def __len__(self) -> int:
        lengths = [len(v) for v in self._values]
        return max(lengths) if self._fillvalue is not NO_FILLVALUE else min(lengths)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return tuple(v[index] if index < len(v) else self._fillvalue for v in self._values)


class ConcatenatedItems(Sequence[Any]):
    def __init__(self, values: Sequence[Sequence[Any]]) -> None:
        self._values = values

    def __len__(self) -> int:
        return sum(len(v) for v in self._values)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        for value in self._values:
            if 0 <= index < len(value):
                return value[index]
            index -= len(value)
        raise IndexError("index out of range")

    def __iter__(self) -> Iterator[Any]:
        return itertools.chain.from_iterable(self._values)
