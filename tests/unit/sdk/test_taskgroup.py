"""Task groups: id prefixes, nesting, edges between groups, and @task_group."""

from __future__ import annotations

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError, DuplicateTaskIdError
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.taskgroup import TaskGroup, task_group


def test_task_ids_are_prefixed_and_groups_nest() -> None:
    with DAG("d") as dag:
        with TaskGroup("extract") as extract:
            a = EmptyOperator(task_id="a")
            with TaskGroup("deep") as deep:
                b = EmptyOperator(task_id="b")
        with TaskGroup("flat", prefix_group_id=False):
            c = EmptyOperator(task_id="c")
    assert (a.task_id, b.task_id, c.task_id) == ("extract.a", "extract.deep.b", "c")
    assert deep.group_id == "extract.deep"
    assert deep.parent_group is extract
    assert b.task_group is deep and b.label == "b"
    assert set(dag.task_group_dict) == {"extract", "extract.deep", "flat"}
    assert list(extract.children) == ["extract.a", "extract.deep"]


def test_shifting_groups_connects_leaves_to_roots() -> None:
    with DAG("d"):
        start = EmptyOperator(task_id="start")
        with TaskGroup("g") as g:
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            c = EmptyOperator(task_id="c")
            a >> c
            b >> c
        with TaskGroup("h") as h:
            x = EmptyOperator(task_id="x")
            y = EmptyOperator(task_id="y")
        end = EmptyOperator(task_id="end")
        start >> g >> h >> end
    assert g.roots == [a, b] and g.leaves == [c]
    assert start.downstream_task_ids == {"g.a", "g.b"}
    assert c.downstream_task_ids == {"h.x", "h.y"}
    assert end.upstream_task_ids == {"h.x", "h.y"}
    assert x.upstream_task_ids == y.upstream_task_ids == {"g.c"}


def test_group_and_task_ids_may_not_collide() -> None:
    with DAG("d"):
        EmptyOperator(task_id="g")
        with pytest.raises(DuplicateTaskIdError, match="group id 'g' is already used"):
            TaskGroup("g")
    with DAG("e"):
        with TaskGroup("g", prefix_group_id=False):
            pass
        with pytest.raises(DuplicateTaskIdError, match="already a task group id"):
            EmptyOperator(task_id="g")


def test_a_group_outside_a_dag_is_an_error() -> None:
    with pytest.raises(DagDefinitionError, match="task group 'lonely' must be created inside a DAG"):
        TaskGroup("lonely")


def test_task_group_decorator_builds_a_group_per_call() -> None:
    @task
    def load(value: int) -> int:
        return value

    @task_group
    def section(value: int) -> None:
        """Loads one section."""
        load(value)

    with DAG("d") as dag:
        first = section(1)
        second = section(2)
    assert isinstance(first, TaskGroup) and isinstance(second, TaskGroup)
    assert (first.group_id, second.group_id) == ("section", "section__1")
    assert first.tooltip == "Loads one section."
    assert dag.task_ids == ["section.load", "section__1.load"]


def test_task_group_returning_a_task_lets_edges_bind_to_it() -> None:
    @task
    def step(x: int) -> int:
        return x

    @task_group(group_id="grp", tooltip="tip")
    def pipeline() -> object:
        return step(step(1))

    with DAG("d") as dag:
        begin = EmptyOperator(task_id="begin")
        last = pipeline()
        begin >> last
    assert dag.task_group_dict["grp"].tooltip == "tip"
    assert dag.get_task("grp.step__1").upstream_task_ids == {"grp.step", "begin"}
