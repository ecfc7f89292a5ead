"""Edge labels: ``a >> Label("on success") >> b`` names the edge a -> b; the graph view shows the name.

An ``EdgeModifier`` is not a task: it remembers what was put on its left and on its right, and every pair
becomes an ordinary edge with the modifier's information stored on the DAG (``dag.edge_info``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewind.sdk.dependencies import DependencyMixin, connect

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator


class EdgeModifier(DependencyMixin):
    """Sits between two sides of ``>>`` and attaches its information to each edge it creates."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self._upstream: list[DependencyMixin] = []
        self._downstream: list[DependencyMixin] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    @property
    def info(self) -> dict[str, str]:
        return {"label": self.label} if self.label is not None else {}

    # A modifier has no tasks of its own: edges go through it.
    def dependency_roots(self) -> list[AbstractOperator]:
        return []

    def dependency_leaves(self) -> list[AbstractOperator]:
        return []

    def accept_upstream(self, upstream: DependencyMixin) -> bool:
        self._upstream.append(upstream)
        for downstream in self._downstream:
            self._link(upstream, downstream)
        return True

    def accept_downstream(self, downstream: DependencyMixin) -> bool:
        self._downstream.append(downstream)
        for upstream in self._upstream:
            self._link(upstream, downstream)
        return True

    def _link(self, upstream: DependencyMixin, downstream: DependencyMixin) -> None:
        connect(upstream, downstream)
        info = self.info
        if not info:
            return
        for leaf in upstream.dependency_leaves():
            for root in downstream.dependency_roots():
                if leaf.has_dag():
                    leaf.dag.set_edge_info(leaf.task_id, root.task_id, info)


class Label(EdgeModifier):
    """``a >> Label("no data") >> b``: an edge with a label."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
