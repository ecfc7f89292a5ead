"""The graph view's layered layout: left to right, no overlaps, groups boxed around their members."""

from __future__ import annotations

import itertools

from tradewind.api.ui.graph_layout import layout
from tradewind.core.serialized_dag import SerializedDag, SerializedTask, SerializedTaskGroup


def make_dag(
    edges: dict[str, list[str]],
    groups: dict[str, str | None] | None = None,
    task_group: dict[str, str] | None = None,
) -> SerializedDag:
    upstream: dict[str, list[str]] = {t: [] for t in edges}
    for src, downs in edges.items():
        for d in downs:
            upstream[d].append(src)
    return SerializedDag(
        dag_id="d",
        fileloc="d.py",
        tasks=[
            SerializedTask(
                task_id=t,
                operator="EmptyOperator",
                upstream=upstream[t],
                downstream=downs,
                task_group=(task_group or {}).get(t),
            )
            for t, downs in edges.items()
        ],
        task_groups={g: SerializedTaskGroup(group_id=g, parent=p) for g, p in (groups or {}).items()},
    )


def overlaps(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_edges_point_right_and_nodes_never_overlap() -> None:
    data = layout(make_dag({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": [], "e": ["d"]}))
    nodes = {n["key"]: n for n in data["nodes"]}
    for edge in data["edges"]:
        assert nodes[edge["source"]]["x"] + nodes[edge["source"]]["w"] < nodes[edge["target"]]["x"]
    for a, b in itertools.combinations(data["nodes"], 2):
        assert not overlaps(a, b), (a["id"], b["id"])
    # longest path from the roots: d sits one layer after b and c
    assert nodes["t:d"]["x"] > nodes["t:b"]["x"] == nodes["t:c"]["x"] > nodes["t:a"]["x"] == nodes["t:e"]["x"]


def test_nested_groups_are_boxes_holding_exactly_their_members() -> None:
    edges = {
        "start": ["g.a"],
        "g.a": ["g.inner.b"],
        "g.inner.b": ["g.c"],
        "g.c": ["end"],
        "side": ["end"],
        "end": [],
    }
    membership = {"g.a": "g", "g.inner.b": "g.inner", "g.c": "g"}
    data = layout(make_dag(edges, {"g": None, "g.inner": "g"}, membership))
    boxes = {b["id"]: b for b in data["group_boxes"]}
    nodes = {n["id"]: n for n in data["nodes"]}

    def inside(node: dict, box: dict) -> bool:  # type: ignore[type-arg]
        return (
            box["x"] <= node["x"]
            and node["x"] + node["w"] <= box["x"] + box["w"]
            and box["y"] <= node["y"]
            and node["y"] + node["h"] <= box["y"] + box["h"]
        )

    assert inside(boxes["g.inner"], boxes["g"])
    assert inside(nodes["g.inner.b"], boxes["g.inner"])
    for task_id in ("g.a", "g.c"):
        assert inside(nodes[task_id], boxes["g"]) and not inside(nodes[task_id], boxes["g.inner"])
    for task_id in ("start", "side", "end"):
        assert not overlaps(nodes[task_id], boxes["g"])


def test_a_collapsed_group_is_one_node_with_the_edges_of_its_tasks() -> None:
    edges = {"start": ["g.a"], "g.a": ["g.b"], "g.b": ["end"], "end": []}
    data = layout(make_dag(edges, {"g": None}, {"g.a": "g", "g.b": "g"}), collapsed={"g"})
    assert {n["key"] for n in data["nodes"]} == {"t:start", "g:g", "t:end"}
    assert {(e["source"], e["target"]) for e in data["edges"]} == {("t:start", "g:g"), ("g:g", "t:end")}
    assert data["collapsed"] == ["g"] and data["group_boxes"] == []


def test_groups_contracting_into_a_cycle_still_lay_out() -> None:
    # g.a -> out -> g.b makes g -> out -> g once the group is a block: the layout must not loop or fail.
    edges = {"g.a": ["out"], "out": ["g.b"], "g.b": []}
    data = layout(make_dag(edges, {"g": None}, {"g.a": "g", "g.b": "g"}))
    assert len(data["nodes"]) == 3 and len(data["group_boxes"]) == 1


def test_a_wide_dag_is_laid_out_quickly_enough_to_serve() -> None:
    edges = {
        f"t{layer}_{i}": ([f"t{layer + 1}_{i}", f"t{layer + 1}_{(i + 1) % 50}"] if layer < 9 else [])
        for layer in range(10)
        for i in range(50)
    }
    data = layout(make_dag(edges))
    assert len(data["nodes"]) == 500 and len(data["edges"]) == 900
    assert len({n["x"] for n in data["nodes"]}) == 10
