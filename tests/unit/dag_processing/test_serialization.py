"""serialize_dag: every SerializedDag field from a DAG object, JSON round trip, timetable rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tradewind.core.serialized_dag import MappedArg, SerializedDag
from tradewind.dag_processing.serialization import json_safe, serialize_dag
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import CycleError
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.params import Param
from tradewind.sdk.schedules import timetable_from_dict
from tradewind.sdk.taskgroup import TaskGroup
from tradewind.sdk.timetables.trigger import CronTriggerTimetable


def notify(context: Any) -> None:
    pass


def build() -> DAG:
    with DAG(
        "full",
        description="all fields",
        doc_md="# Full",
        schedule="0 6 * * *",
        start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Paris")),
        end_date=datetime(2025, 1, 1),
        catchup=True,
        max_active_runs=2,
        max_active_tasks=4,
        dagrun_timeout=timedelta(hours=2),
        tags=["a", "b"],
        params={"n": Param(3, type="integer", description="count"), "plain": "x"},
        render_template_as_native_obj=True,
        is_paused_upon_creation=False,
        on_failure_callback=notify,
        default_args={"owner": "ana", "retries": 2, "retry_delay": timedelta(minutes=1)},
    ) as dag:
        start = EmptyOperator(task_id="start")
        noisy = EmptyOperator(task_id="noisy", on_success_callback=notify)
        bash = BashOperator(
            task_id="bash",
            bash_command="echo {{ ds }}",
            env={"K": "V"},
            execution_timeout=timedelta(seconds=90),
            pool="p",
            pool_slots=2,
            queue="q",
            priority_weight=5,
            max_retry_delay=600,
            retry_exponential_backoff=True,
            depends_on_past=True,
            executor_config={"cpu": 1, "obj": object()},
            owner="bob",
            doc_md="runs bash",
            trigger_rule="all_done",
            on_retry_callback=[notify],
        )
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "bash")
        gate = ShortCircuitOperator(
            task_id="gate", python_callable=lambda: True, ignore_downstream_trigger_rules=False
        )
        with TaskGroup("grp", tooltip="the group"), TaskGroup("inner"):
            EmptyOperator(task_id="leaf")

        @task
        def numbers() -> list[int]:
            return [1, 2]

        @task
        def square(x: int, power: int) -> int:
            return x**power

        nums = numbers()
        squared = square.partial(power=2).expand(x=nums)
        literal = BashOperator.partial(task_id="each").expand(bash_command=["echo a", "echo b"])
        start >> [noisy, branch] >> bash >> gate >> literal
        squared >> gate
    return dag


def test_dag_fields() -> None:
    s = serialize_dag(build(), fileloc="/dags/full.py", relative_fileloc="full.py")
    assert (s.dag_id, s.fileloc, s.relative_fileloc) == ("full", "/dags/full.py", "full.py")
    assert (s.description, s.doc_md, s.tags) == ("all fields", "# Full", ["a", "b"])
    assert s.owners == ["ana", "bob"]
    assert s.timetable == {
        "type": "cron_trigger",
        "expression": "0 6 * * *",
        "timezone": "Europe/Paris",
        "interval": 0.0,
        "run_immediately": False,
    }
    assert s.schedule_description == "At 06:00" and s.timezone == "Europe/Paris"
    assert s.start_date == datetime(2023, 12, 31, 23, tzinfo=UTC)
    assert s.end_date == datetime(2025, 1, 1, tzinfo=UTC)
    assert (s.catchup, s.max_active_runs, s.max_active_tasks, s.dagrun_timeout) == (True, 2, 4, 7200.0)
    assert s.is_paused_upon_creation is False and s.render_template_as_native_obj is True
    assert s.params["n"].default == 3 and s.params["n"].schema_ == {"type": "integer"}
    assert s.params["n"].description == "count" and s.params["plain"].has_default
    assert s.has_on_failure_callback and not s.has_on_success_callback


def test_task_fields() -> None:
    s = serialize_dag(build(), fileloc="/dags/full.py", relative_fileloc="full.py")
    bash = s.get_task("bash")
    assert (bash.operator, bash.operator_module) == ("BashOperator", "tradewind.sdk.operators.bash")
    assert bash.upstream == ["branch", "noisy"] and bash.downstream == ["gate"]
    assert (bash.trigger_rule, bash.retries, bash.retry_delay, bash.max_retry_delay) == (
        "all_done",
        2,
        60.0,
        600.0,
    )
    assert bash.retry_exponential_backoff and bash.depends_on_past
    assert (bash.execution_timeout, bash.pool, bash.pool_slots, bash.queue) == (90.0, "p", 2, "q")
    assert bash.executor_config["cpu"] == 1 and bash.executor_config["obj"] == "<object>"
    assert bash.template_fields == ["bash_command", "env", "cwd"]
    assert bash.templates == {"bash_command": "echo {{ ds }}", "env": {"K": "V"}, "cwd": None}
    assert (bash.owner, bash.doc_md, bash.has_on_retry_callback) == ("bob", "runs bash", True)
    assert s.get_task("start").owner == "ana"
    # downstream weight rule: own 5 + gate 1 + each 1
    assert bash.priority_weight == 7
    assert s.get_task("start").is_empty and not s.get_task("noisy").is_empty
    assert s.get_task("noisy").has_on_success_callback
    assert s.get_task("branch").is_branch and not s.get_task("bash").is_branch
    gate = s.get_task("gate")
    assert gate.is_short_circuit and gate.model_extra is not None
    assert gate.model_extra["ignore_downstream_trigger_rules"] is False
    assert s.get_task("grp.inner.leaf").task_group == "grp.inner"
    assert s.get_task("start").task_group is None


def test_mapped_tasks_carry_their_expand_arguments() -> None:
    s = serialize_dag(build(), fileloc="/dags/full.py", relative_fileloc="full.py")
    square = s.get_task("square")
    assert square.is_mapped and square.operator == "@task"  # shown as Airflow shows TaskFlow tasks
    assert square.expand == {"x": MappedArg(kind="xcom", task_id="numbers", key="return_value")}
    assert square.templates["op_kwargs"] == {"power": 2}
    assert square.upstream == ["numbers"] and square.retries == 2
    each = s.get_task("each")
    assert each.expand == {"bash_command": MappedArg(kind="literal", value=["echo a", "echo b"])}
    assert not s.get_task("bash").is_mapped


def test_tasks_are_in_topological_order_and_groups_form_a_tree() -> None:
    s = serialize_dag(build(), fileloc="/dags/full.py", relative_fileloc="full.py")
    position = {t.task_id: i for i, t in enumerate(s.tasks)}
    for t in s.tasks:
        assert all(position[u] < position[t.task_id] for u in t.upstream)
    assert set(s.task_groups) == {"grp", "grp.inner"}
    assert s.task_groups["grp"].parent is None and s.task_groups["grp"].tooltip == "the group"
    assert s.task_groups["grp"].children == ["grp.inner"]
    assert s.task_groups["grp.inner"].parent == "grp"
    assert s.task_groups["grp.inner"].children == ["grp.inner.leaf"]


def test_json_round_trip_gives_an_equal_object_and_the_timetable_rebuilds() -> None:
    s = serialize_dag(build(), fileloc="/dags/full.py", relative_fileloc="full.py")
    again = SerializedDag.from_json(s.to_json())
    assert again == s
    assert again.content_hash() == s.content_hash()
    table = timetable_from_dict(again.timetable)
    assert isinstance(table, CronTriggerTimetable) and table.timezone == "Europe/Paris"


def test_serialising_is_deterministic() -> None:
    first = serialize_dag(build(), fileloc="f", relative_fileloc="f")
    second = serialize_dag(build(), fileloc="f", relative_fileloc="f")
    assert first.content_hash() == second.content_hash()


def test_a_cycle_cannot_be_serialised() -> None:
    with DAG("loop") as dag:
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        a >> b >> a
    with pytest.raises(CycleError):
        serialize_dag(dag, fileloc="f", relative_fileloc="f")


def test_json_safe_conversions() -> None:
    class WithDict:
        def to_dict(self) -> dict[str, Any]:
            return {"kind": "pod", "when": datetime(2024, 1, 1, tzinfo=UTC)}

    value = {
        "t": (1, 2),
        "s": {3},
        "d": timedelta(seconds=5),
        "nan": float("nan"),
        1: WithDict(),
        "f": notify,
    }
    safe = json_safe(value)
    assert safe["t"] == [1, 2] and safe["s"] == [3] and safe["d"] == 5.0 and safe["nan"] == "nan"
    assert safe["1"] == {"kind": "pod", "when": "2024-01-01T00:00:00+00:00"}
    assert safe["f"] == "<function notify>"
