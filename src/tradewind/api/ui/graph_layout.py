"""Graph view layout: a DAG's tasks and task groups placed left to right as a layered graph.

Each container (the DAG, or an expanded task group) is laid out on its own: its members (tasks, collapsed
groups, and expanded groups as blocks of their own size) get an x by longest path from the container's
roots, then a y by packing each member as high as it fits near its upstream members. Blocks never overlap,
so a group's box holds exactly its members. A collapsed group is one node standing for all its tasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from tradewind.core.serialized_dag import SerializedDag

NODE_W = 190
NODE_H = 38
H_GAP = 56
#: The horizontal gap when the DAG has edge labels: room to write them between the nodes.
LABELLED_H_GAP = 130
V_GAP = 14
GROUP_PAD = 12
GROUP_HEADER = 26
ROOT = ""  # the container id of the DAG itself


@dataclass(slots=True)
class Block:
    item: str  # task id or group id
    kind: str  # "task" | "group"
    w: float
    h: float
    x: float = 0.0
    y: float = 0.0
    children: list[Block] = field(default_factory=list)
    expanded: bool = False


@dataclass(slots=True)
class Containers:
    """Which container each task and group sits in, and each container's members in task order."""

    parent: dict[str, str]  # item -> container id (ROOT for the DAG)
    members: dict[str, list[str]]
    groups: set[str]


def _containers(sdag: SerializedDag) -> Containers:
    groups = set(sdag.task_groups)
    parent: dict[str, str] = {}
    for group_id, group in sdag.task_groups.items():
        parent["g:" + group_id] = group.parent if group.parent in groups else ROOT
    for task in sdag.tasks:
        parent["t:" + task.task_id] = task.task_group if task.task_group in groups else ROOT
    members: dict[str, list[str]] = defaultdict(list)
    placed: set[str] = set()

    def place(item: str) -> None:
        # Members are listed in the order their first task appears (topological), groups before their tasks.
        if item in placed:
            return
        container = parent[item]
        if container != ROOT:
            place("g:" + container)
        placed.add(item)
        members[container].append(item)

    for task in sdag.tasks:
        place("t:" + task.task_id)
    for group_id in sdag.task_groups:  # empty groups still show
        place("g:" + group_id)
    return Containers(parent=parent, members=dict(members), groups=groups)


def _chain(item: str, c: Containers) -> list[str]:
    """Containers from the DAG down to the one directly holding ``item``: ["", "a", "a.b"]."""
    chain = []
    container = c.parent[item]
    while container != ROOT:
        chain.append(container)
        container = c.parent["g:" + container]
    chain.append(ROOT)
    chain.reverse()
    return chain


def visible_item(task_id: str, c: Containers, collapsed: Collection[str]) -> str:
    """The node that shows this task: the task itself, or its outermost collapsed group."""
    for container in _chain("t:" + task_id, c)[1:]:
        if container in collapsed:
            return "g:" + container
    return "t:" + task_id


def _level_edges(sdag: SerializedDag, c: Containers) -> dict[str, set[tuple[str, str]]]:
    """For each container, the edges between its members induced by the task edges below them."""
    chains = {task.task_id: _chain("t:" + task.task_id, c) for task in sdag.tasks}
    edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for task in sdag.tasks:
        src_chain = chains[task.task_id]
        for down in task.downstream:
            if down not in chains:
                continue
            dst_chain = chains[down]
            depth = 0
            while (
                depth + 1 < min(len(src_chain), len(dst_chain))
                and src_chain[depth + 1] == dst_chain[depth + 1]
            ):
                depth += 1
            container = src_chain[depth]
            src = "g:" + src_chain[depth + 1] if depth + 1 < len(src_chain) else "t:" + task.task_id
            dst = "g:" + dst_chain[depth + 1] if depth + 1 < len(dst_chain) else "t:" + down
            if src != dst:
                edges[container].add((src, dst))
    return edges


def _topological(members: list[str], edges: set[tuple[str, str]]) -> tuple[list[str], dict[str, list[str]]]:
    """Members in an order where edges point forward, and each member's predecessors along kept edges.

    Contracting groups can make cycles (a -> outside -> b with a, b in one group); the edges closing a cycle
    are left out of the layering.
    """
    index = {m: i for i, m in enumerate(members)}
    succ: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(members, 0)
    for src, dst in edges:
        succ[src].append(dst)
        indegree[dst] += 1
    ready = sorted((m for m in members if indegree[m] == 0), key=index.__getitem__)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(members):
        if not ready:  # a cycle: break it at the earliest member left
            ready = [min((m for m in members if m not in done), key=index.__getitem__)]
        ready.sort(key=index.__getitem__)
        member = ready.pop(0)
        if member in done:
            continue
        done.add(member)
        order.append(member)
        for nxt in succ[member]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0 and nxt not in done:
                ready.append(nxt)
    position = {m: i for i, m in enumerate(order)}
    preds: dict[str, list[str]] = defaultdict(list)
    for src, dst in edges:
        if position[src] < position[dst]:
            preds[dst].append(src)
    return order, preds


def _pack(blocks: dict[str, Block], order: list[str], preds: dict[str, list[str]], h_gap: float) -> None:
    for member in order:
        block = blocks[member]
        block.x = max((blocks[p].x + blocks[p].w + h_gap for p in preds[member]), default=0.0)
    placed: list[Block] = []
    for member in sorted(order, key=lambda m: blocks[m].x):
        block = blocks[member]
        centres = [blocks[p].y + blocks[p].h / 2 for p in preds[member]]
        top = max(0.0, sum(centres) / len(centres) - block.h / 2) if centres else 0.0
        right = block.x + block.w
        busy = sorted((b.y, b.y + b.h) for b in placed if b.x < right and block.x < b.x + b.w)
        for y0, y1 in busy:
            if y0 >= top + block.h + V_GAP:
                break
            if y1 + V_GAP > top:
                top = y1 + V_GAP
        block.y = top
        placed.append(block)


def _layout_container(
    container: str,
    c: Containers,
    edges: dict[str, set[tuple[str, str]]],
    collapsed: Collection[str],
    h_gap: float = H_GAP,
) -> list[Block]:
    members = c.members.get(container, [])
    blocks: dict[str, Block] = {}
    for member in members:
        kind, _, name = member.partition(":")
        if kind == "g" and name not in collapsed and c.members.get(name):
            children = _layout_container(name, c, edges, collapsed, h_gap)
            width = max(b.x + b.w for b in children) + 2 * GROUP_PAD
            height = max(b.y + b.h for b in children) + GROUP_PAD + GROUP_HEADER
            blocks[member] = Block(
                name, "group", max(width, NODE_W), height, children=children, expanded=True
            )
        else:
            blocks[member] = Block(name, "group" if kind == "g" else "task", NODE_W, NODE_H)
    order, preds = _topological(members, edges.get(container, set()))
    _pack(blocks, order, preds, h_gap)
    return [blocks[m] for m in members]


def layout(sdag: SerializedDag, collapsed: Collection[str] = ()) -> dict[str, Any]:
    """The graph as JSON-ready data: nodes (with the label to show: the task's display name) and group boxes
    with absolute positions, and edges (with the edge label authored with ``Label``, if any)."""
    c = _containers(sdag)
    collapsed = {g for g in collapsed if g in c.groups}
    h_gap = LABELLED_H_GAP if sdag.edge_info else H_GAP
    top = _layout_container(ROOT, c, _level_edges(sdag, c), collapsed, h_gap)
    nodes: list[dict[str, Any]] = []
    boxes: list[dict[str, Any]] = []

    def emit(blocks: list[Block], ox: float, oy: float, depth: int) -> None:
        for b in blocks:
            x, y = ox + b.x, oy + b.y
            if b.expanded:
                boxes.append(
                    {"key": "g:" + b.item, "id": b.item, "x": x, "y": y, "w": b.w, "h": b.h, "depth": depth}
                )
                emit(b.children, x + GROUP_PAD, y + GROUP_HEADER, depth + 1)
            else:
                key = ("g:" if b.kind == "group" else "t:") + b.item
                nodes.append({"key": key, "id": b.item, "kind": b.kind, "x": x, "y": y, "w": b.w, "h": b.h})

    emit(top, 0.0, 0.0, 0)
    for node in nodes:
        if node["kind"] == "task":
            task = sdag.task_dict[node["id"]]
            node.update(
                operator=task.operator,
                mapped=task.is_mapped,
                ui_color=task.ui_color,
                label=task.display_name,
                setup=task.is_setup,
                teardown=task.is_teardown,
            )
        else:
            group = sdag.task_groups.get(node["id"])
            mapped = group is not None and group.expand is not None
            node.update(operator="TaskGroup", mapped=mapped, ui_color=None, label=node["id"])
    edges: set[tuple[str, str]] = set()
    labels: dict[tuple[str, str], str] = {}
    for task in sdag.tasks:
        src = visible_item(task.task_id, c, collapsed)
        for down in task.downstream:
            if down in sdag.task_dict:
                dst = visible_item(down, c, collapsed)
                if src != dst:
                    edges.add((src, dst))
                    label = sdag.edge_label(task.task_id, down)
                    if label is not None:
                        labels.setdefault((src, dst), label)
    width = max((n["x"] + n["w"] for n in nodes), default=0.0)
    height = max((n["y"] + n["h"] for n in nodes), default=0.0)
    for box in boxes:
        width, height = max(width, box["x"] + box["w"]), max(height, box["y"] + box["h"])
    return {
        "nodes": nodes,
        "group_boxes": boxes,
        "edges": [_edge(s, t, labels.get((s, t))) for s, t in sorted(edges)],
        "width": width,
        "height": height,
        "collapsed": sorted(collapsed),
        "all_groups": sorted(c.groups),
    }


def _edge(source: str, target: str, label: str | None) -> dict[str, str]:
    edge = {"source": source, "target": target}
    if label is not None:
        edge["label"] = label
    return edge


def group_members(sdag: SerializedDag) -> dict[str, list[str]]:
    """Every group id -> the task ids anywhere inside it."""
    c = _containers(sdag)
    inside: dict[str, list[str]] = defaultdict(list)
    for task in sdag.tasks:
        for container in _chain("t:" + task.task_id, c)[1:]:
            inside[container].append(task.task_id)
    return {g: inside.get(g, []) for g in c.groups}
