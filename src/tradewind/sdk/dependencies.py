"""The ``>>`` / ``<<`` / set_upstream / set_downstream vocabulary of tasks, XComArgs and task groups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator

Relatives: TypeAlias = "DependencyMixin | Sequence[DependencyMixin]"


class DependencyMixin:
    """Something that can sit on either side of ``>>``: it exposes the tasks an edge attaches to."""

    def dependency_roots(self) -> list[AbstractOperator]:
        """Tasks that receive an edge pointing at this node."""
        raise NotImplementedError

    def dependency_leaves(self) -> list[AbstractOperator]:
        """Tasks that an edge leaving this node starts from."""
        raise NotImplementedError

    def accept_upstream(self, upstream: DependencyMixin) -> bool:
        """Nodes that are not tasks (an edge label) take ``upstream >> self`` here and return True."""
        return False

    def accept_downstream(self, downstream: DependencyMixin) -> bool:
        """Nodes that are not tasks (an edge label) take ``self >> downstream`` here and return True."""
        return False

    def set_upstream(self, other: Relatives) -> None:
        for node in flatten_relatives(other):
            connect(node, self)

    def set_downstream(self, other: Relatives) -> None:
        for node in flatten_relatives(other):
            connect(self, node)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Any:
        # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Any:
        # [a, b] << self
        self.set_downstream(other)
        return self


def flatten_relatives(other: object) -> list[DependencyMixin]:
    if isinstance(other, DependencyMixin):
        return [other]
    if isinstance(other, Iterable) and not isinstance(other, str | bytes | dict):
        nodes: list[DependencyMixin] = []
        for item in other:
            nodes.extend(flatten_relatives(item))
        return nodes
    raise TypeError(
        "dependencies can be set only between tasks, task groups, XComArgs, edge labels and lists of them; "
        f"got {other!r}"
    )


def connect(upstream: DependencyMixin, downstream: DependencyMixin) -> None:
    """Add an edge from every leaf of ``upstream`` to every root of ``downstream``."""
    if downstream.accept_upstream(upstream) or upstream.accept_downstream(downstream):
        return
    for leaf in upstream.dependency_leaves():
        for root in downstream.dependency_roots():
            leaf.add_downstream_edge(root)
