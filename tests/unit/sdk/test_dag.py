"""The DAG object: context manager, defaults, schedule and timezone, validation with clear messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import CycleError, DagDefinitionError, DuplicateTaskIdError, NotFoundError
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.params import Param
from tradewind.sdk.schedules import timetable_to_dict
from tradewind.sdk.timetables.simple import NullTimetable, OnceTimetable
from tradewind.sdk.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable


def test_tasks_created_inside_the_with_block_attach_to_the_dag() -> None:
    with DAG("etl") as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
    outside = EmptyOperator(task_id="c")
    assert dag.tasks == [a, b]
    assert dag.task_dict == {"a": a, "b": b}
    assert a.dag is dag
    assert not outside.has_dag()
    assert dag.get_task("b") is b


def test_get_task_of_an_unknown_id_names_it() -> None:
    dag = DAG("etl")
    with pytest.raises(NotFoundError, match="DAG 'etl' has no task 'nope'"):
        dag.get_task("nope")


def test_passing_dag_explicitly_attaches_without_a_with_block() -> None:
    dag = DAG("etl")
    a = EmptyOperator(task_id="a", dag=dag)
    assert dag.tasks == [a]


def test_roots_leaves_and_topological_order() -> None:
    with DAG("etl") as dag:
        c = EmptyOperator(task_id="c")
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        d = EmptyOperator(task_id="d")
        a >> b >> c
        a >> d
    assert dag.roots == [a]
    assert dag.leaves == [c, d]
    order = [t.task_id for t in dag.topological_sort()]
    assert order.index("a") < order.index("b") < order.index("c")
    assert order.index("a") < order.index("d")


def test_topological_order_keeps_definition_order_among_independent_tasks() -> None:
    with DAG("etl") as dag:
        for name in ["z", "y", "x"]:
            EmptyOperator(task_id=name)
    assert [t.task_id for t in dag.topological_sort()] == ["z", "y", "x"]


def test_a_cycle_is_reported_with_the_dag_and_the_path() -> None:
    with DAG("loop") as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        a >> b >> c >> a
    with pytest.raises(CycleError) as info:
        dag.validate()
    assert "DAG 'loop' has a cycle" in str(info.value)
    path = str(info.value).split(": ", 1)[1]
    assert path in {"a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"}
    assert info.value.dag_id == "loop"
    with pytest.raises(CycleError):
        dag.topological_sort()


def test_a_self_loop_is_a_cycle() -> None:
    with DAG("loop") as dag:
        a = EmptyOperator(task_id="a")
        a >> a
    with pytest.raises(CycleError, match="a -> a"):
        dag.validate()


def test_a_duplicate_task_id_names_both_definitions() -> None:
    with DAG("dup"), pytest.raises(DuplicateTaskIdError) as info:
        EmptyOperator(task_id="same")
        EmptyOperator(task_id="same")
    message = str(info.value)
    assert "DAG 'dup'" in message and "'same'" in message
    assert message.count("EmptyOperator at ") == 2
    assert __file__ in message


def test_an_invalid_cron_names_the_dag() -> None:
    with pytest.raises(DagDefinitionError, match=r"DAG 'bad'.*invalid cron expression '61 \* \* \* \*'"):
        DAG("bad", schedule="61 * * * *")


@pytest.mark.parametrize("dag_id", ["has space", "", "slash/no", "x" * 251])
def test_invalid_dag_ids_are_refused(dag_id: str) -> None:
    with pytest.raises(DagDefinitionError, match="dag_id"):
        DAG(dag_id)


@pytest.mark.parametrize(
    ("schedule", "kind"),
    [
        (None, NullTimetable),
        ("@once", OnceTimetable),
        ("@daily", CronTriggerTimetable),
        ("*/5 * * * *", CronTriggerTimetable),
        (timedelta(hours=1), DeltaTriggerTimetable),
    ],
)
def test_schedule_becomes_a_timetable(schedule: object, kind: type) -> None:
    assert isinstance(DAG("s", schedule=schedule).timetable, kind)


def test_timezone_comes_from_start_date_and_naive_means_utc() -> None:
    naive = DAG("a", schedule="@daily", start_date=datetime(2024, 1, 1))
    assert naive.timezone == "UTC"
    assert naive.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    local = DAG(
        "b", schedule="0 9 * * *", start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))
    )
    assert local.timezone == "Europe/Amsterdam"
    assert timetable_to_dict(local.timetable)["timezone"] == "Europe/Amsterdam"
    fixed = DAG("c", start_date=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))))
    assert fixed.timezone == "Etc/GMT-2"
    assert ZoneInfo(fixed.timezone).utcoffset(datetime(2024, 1, 1)) == timedelta(hours=2)


def test_start_date_may_come_from_default_args() -> None:
    dag = DAG("a", default_args={"start_date": datetime(2023, 5, 1), "owner": "ana"})
    assert dag.start_date == datetime(2023, 5, 1, tzinfo=UTC)


def test_settings_are_kept() -> None:
    dag = DAG(
        "full",
        description="d",
        schedule="@hourly",
        catchup=True,
        max_active_runs=2,
        max_active_tasks=3,
        dagrun_timeout=timedelta(minutes=5),
        tags=["x", "y"],
        doc_md="# doc",
        template_searchpath="/tmp",
        is_paused_upon_creation=False,
        owner_links={"ana": "mailto:ana@example.com"},
    )
    assert (dag.description, dag.catchup, dag.max_active_runs, dag.max_active_tasks) == ("d", True, 2, 3)
    assert dag.dagrun_timeout == timedelta(minutes=5)
    assert dag.tags == ["x", "y"]
    assert dag.template_searchpath == ["/tmp"]
    assert dag.is_paused_upon_creation is False
    assert dag.owner_links == {"ana": "mailto:ana@example.com"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_active_runs": 0}, "max_active_runs"),
        ({"max_active_tasks": -1}, "max_active_tasks"),
        ({"dagrun_timeout": 30}, "dagrun_timeout"),
        ({"tags": ["x" * 101]}, "tag"),
    ],
)
def test_bad_settings_name_the_dag_and_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(DagDefinitionError, match=f"DAG 'bad'.*{field}"):
        DAG("bad", **kwargs)  # type: ignore[arg-type]


def test_params_accept_plain_values_and_params() -> None:
    dag = DAG("p", params={"n": 3, "mode": Param("fast", enum=["fast", "slow"])})
    assert dag.params["n"] == Param(3)
    assert dag.params["mode"].schema == {"enum": ["fast", "slow"]}


def test_a_scheduled_dag_needs_valid_param_defaults() -> None:
    dag = DAG("p", schedule="@daily", start_date=datetime(2024, 1, 1), params={"n": Param(type="integer")})
    with pytest.raises(DagDefinitionError, match=r"DAG 'p' has a schedule.*'n' is required"):
        dag.validate()
    manual = DAG("m", params={"n": Param(type="integer")})
    manual.validate()  # a manual DAG gets its values from the trigger


def test_a_task_in_one_dag_cannot_depend_on_a_task_of_another() -> None:
    a = EmptyOperator(task_id="a", dag=DAG("one"))
    b = EmptyOperator(task_id="b", dag=DAG("two"))
    with pytest.raises(DagDefinitionError, match=r"DAG 'one'.*DAG 'two'"):
        a >> b


def test_a_task_without_dag_joins_the_dag_of_the_task_it_is_wired_to() -> None:
    dag = DAG("one")
    a = EmptyOperator(task_id="a", dag=dag)
    b = EmptyOperator(task_id="b")
    a >> b
    assert b.dag is dag
    assert dag.task_ids == ["a", "b"]


def test_wiring_two_tasks_without_a_dag_is_an_error() -> None:
    with pytest.raises(DagDefinitionError, match="neither belongs to a DAG"):
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")


def test_the_dag_file_folder_is_known() -> None:
    dag = DAG("here")
    assert dag.fileloc == __file__
    assert dag.definition_site is not None and dag.definition_site.lineno > 0
