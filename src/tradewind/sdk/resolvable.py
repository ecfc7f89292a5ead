"""Values known only at run time (an upstream XCom, a DAG param), and walking nested arguments for them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator
    from tradewind.sdk.dag import DAG


class ResolveMixin:
    """A placeholder in task arguments that the runner replaces with a value from the task's context."""

    def resolve(self, context: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def iter_references(self) -> Iterator[tuple[AbstractOperator, str]]:
        """The (upstream task, XCom key) pairs this placeholder reads."""
        return iter(())


class DagParam(ResolveMixin):
    """A DAG param by name (what an ``@dag`` function receives for each of its parameters)."""

    def __init__(self, dag: DAG, name: str) -> None:
        self.dag = dag
        self.name = name

    def resolve(self, context: Mapping[str, Any]) -> Any:
        params = context.get("params") or {}
        if self.name in params:
            return params[self.name]
        raise KeyError(f"param {self.name!r} of DAG {self.dag.dag_id!r} has no value")

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"


def iter_resolvables(value: Any, _seen: set[int] | None = None) -> Iterator[ResolveMixin]:
    """Every placeholder inside ``value``, looking into lists, tuples, sets and dict values."""
    if isinstance(value, ResolveMixin):
        yield value
        return
    if isinstance(value, list | tuple | set | frozenset | dict):
        seen = _seen if _seen is not None else set()
        if id(value) in seen:
            return
        seen.add(id(value))
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            yield from iter_resolvables(item, seen)


def iter_upstream_references(value: Any) -> Iterator[tuple[AbstractOperator, str]]:
    for resolvable in iter_resolvables(value):
        yield from resolvable.iter_references()
