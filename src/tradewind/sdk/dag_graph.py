"""Graph algorithms on task ids: a stable topological order and finding a cycle's path."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence


def find_cycle(nodes: Sequence[str], downstream: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle as a path that returns to its start (``["a", "b", "a"]``), or None if the graph is acyclic."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(nodes, white)
    for start in nodes:
        if color[start] != white:
            continue
        path: list[str] = [start]
        iterators = [iter(sorted(downstream.get(start, ())))]
        color[start] = grey
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                color[path.pop()] = black
                iterators.pop()
                continue
            state = color.get(nxt, black)
            if state == grey:
                return [*path[path.index(nxt) :], nxt]
            if state == white:
                color[nxt] = grey
                path.append(nxt)
                iterators.append(iter(sorted(downstream.get(nxt, ()))))
    return None


def topological_order(nodes: Sequence[str], downstream: Mapping[str, Iterable[str]]) -> list[str]:
    """Kahn's algorithm; among ready nodes the one first in ``nodes`` comes first. Requires no cycle."""
    position = {node: i for i, node in enumerate(nodes)}
    indegree = dict.fromkeys(nodes, 0)
    for node in nodes:
        for child in downstream.get(node, ()):
            if child in indegree:
                indegree[child] += 1
    ready = [position[n] for n in nodes if indegree[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for child in downstream.get(node, ()):
            if child in indegree:
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, position[child])
    if len(order) != len(nodes):
        raise ValueError("the graph has a cycle")
    return order
