"""Edge labels (``Label``) and display names as authored and as stored in the SerializedDag."""

from __future__ import annotations

from datetime import datetime

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.chain import chain
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.edges import EdgeModifier, Label
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.taskgroup import TaskGroup

START = datetime(2024, 1, 1)


def serialized(dag: DAG) -> SerializedDag:
    return serialize_dag(dag, fileloc="/dags/x.py", relative_fileloc="x.py")


def test_label_between_two_tasks_and_towards_a_list() -> None:
    with DAG("labels", start_date=START) as dag:
        a, b, c, d = (EmptyOperator(task_id=i) for i in "abcd")
        a >> Label("fan out") >> [b, c]
        [b, c] >> Label("join") >> d
    assert a.downstream_task_ids == {"b", "c"} and d.upstream_task_ids == {"b", "c"}
    assert dag.get_edge_info("a", "b") == {"label": "fan out"}
    assert dag.get_edge_info("c", "d") == {"label": "join"}
    assert dag.get_edge_info("a", "d") == {}


def test_label_written_from_the_right_and_with_lshift() -> None:
    with DAG("labels", start_date=START) as dag:
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        b << Label("back") << a
    assert b.upstream_task_ids == {"a"} and dag.get_edge_info("a", "b") == {"label": "back"}


def test_labels_in_chain_pair_up_with_lists() -> None:
    with DAG("labels", start_date=START) as dag:
        start, left, right, end = (EmptyOperator(task_id=i) for i in ("start", "left", "right", "end"))
        chain(start, [Label("one"), Label("two")], [left, right], end)
    assert dag.get_edge_info("start", "left") == {"label": "one"}
    assert dag.get_edge_info("start", "right") == {"label": "two"}
    assert end.upstream_task_ids == {"left", "right"}


def test_label_to_a_task_group_and_from_a_taskflow_task() -> None:
    with DAG("labels", start_date=START) as dag:

        @task
        def pick() -> str:
            return "x"

        with TaskGroup("grp") as grp:
            EmptyOperator(task_id="inner")
        pick() >> Label("into the group") >> grp
    assert dag.get_edge_info("pick", "grp.inner") == {"label": "into the group"}


def test_an_edge_modifier_without_a_label_is_a_plain_edge() -> None:
    with DAG("labels", start_date=START) as dag:
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        a >> EdgeModifier() >> b
    assert a.downstream_task_ids == {"b"} and dag.edge_info == {}


def test_edge_info_and_display_names_are_serialized() -> None:
    with DAG("labels", start_date=START, dag_display_name="Labelled DAG") as dag:
        a = EmptyOperator(task_id="a", task_display_name="Start here")
        b = EmptyOperator(task_id="b")
        a >> Label("next") >> b
    sdag = serialized(dag)
    assert sdag.edge_info == {"a": {"b": {"label": "next"}}}
    assert sdag.edge_label("a", "b") == "next" and sdag.edge_label("b", "a") is None
    assert sdag.dag_display_name == "Labelled DAG" and sdag.display_name == "Labelled DAG"
    tasks = sdag.task_dict
    assert tasks["a"].task_display_name == "Start here" and tasks["a"].display_name == "Start here"
    assert tasks["b"].task_display_name is None and tasks["b"].display_name == "b"
    again = SerializedDag.from_json(sdag.to_json())
    assert again.edge_info == sdag.edge_info and again.dag_display_name == "Labelled DAG"


def test_display_names_default_to_ids() -> None:
    with DAG("plain", start_date=START) as dag:
        op = EmptyOperator(task_id="op")
    assert dag.dag_display_name == "plain" and op.task_display_name == "op"
    sdag = serialized(dag)
    assert sdag.dag_display_name is None and sdag.task_dict["op"].task_display_name is None


def test_a_dag_stored_before_these_fields_existed_still_loads() -> None:
    old = (
        '{"version": 1, "dag_id": "old", "fileloc": "/dags/old.py", "tasks": [{"task_id": "a", '
        '"operator": "BashOperator", "downstream": ["b"]}, {"task_id": "b", "operator": "BashOperator", '
        '"upstream": ["a"]}]}'
    )
    sdag = SerializedDag.from_json(old)
    assert sdag.edge_info == {} and sdag.display_name == "old"
    a = sdag.task_dict["a"]
    assert (a.is_setup, a.is_teardown, a.on_failure_fail_dagrun, a.display_name) == (False, False, False, "a")
    assert sdag.setup_teardown.run_state_task_ids() == ["b"]
