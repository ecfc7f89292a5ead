"""LatestOnlyOperator, BranchDateTimeOperator, BranchDayOfWeekOperator and WeekDay, run as the runner runs
them (an in-memory runtime records which downstream tasks they skip)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.branch import BaseBranchOperator
from tradewind.sdk.operators.datetime_branch import BranchDateTimeOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.operators.latest_only import LatestOnlyOperator
from tradewind.sdk.operators.weekday_branch import BranchDayOfWeekOperator
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.weekday import WeekDay

RUN_ID = "r1"


def run(
    op: BaseBranchOperator,
    runtime: InMemoryRuntime,
    *,
    logical_date: datetime,
    interval: tuple[datetime, datetime] | None = None,
    run_type: str = "scheduled",
) -> list[str]:
    """Execute the branch task; the ids of the tasks it skipped."""
    start, end = interval if interval is not None else (logical_date, logical_date)
    context = build_context(
        task=op, run_id=RUN_ID, logical_date=logical_date, data_interval_start=start, data_interval_end=end,
        run_type=run_type,
    )  # fmt: skip
    op.execute(context)
    return sorted(runtime.skipped.get((op.dag.dag_id, RUN_ID), []))


def branch_dag(dag_id: str, make: Any, **dag_args: Any) -> DAG:
    with DAG(dag_id, start_date=datetime(2024, 1, 1, tzinfo=UTC), **dag_args) as dag:
        branch = make()
        branch >> [EmptyOperator(task_id="yes"), EmptyOperator(task_id="no")]
    return dag


# -- LatestOnlyOperator -----------------------------------------------------------------------------------


def latest_only_dag(schedule: object) -> tuple[DAG, LatestOnlyOperator]:
    with DAG("latest", schedule=schedule, start_date=datetime(2024, 1, 1, tzinfo=UTC)) as dag:
        latest = LatestOnlyOperator(task_id="latest_only")
        latest >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
    return dag, latest


def test_latest_only_lets_the_current_interval_through(runtime: InMemoryRuntime) -> None:
    _dag, latest = latest_only_dag(timedelta(hours=1))
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(minutes=30)
    # the run for the interval that covers now: its window reaches the end of the next interval
    assert run(latest, runtime, logical_date=start, interval=(start, start + timedelta(hours=1))) == []


def test_latest_only_skips_direct_downstream_of_an_old_run(runtime: InMemoryRuntime) -> None:
    _dag, latest = latest_only_dag("@daily")
    old = datetime(2024, 1, 2, tzinfo=UTC)
    assert run(latest, runtime, logical_date=old) == ["a", "b"]


def test_latest_only_never_skips_a_manual_run(runtime: InMemoryRuntime) -> None:
    _dag, latest = latest_only_dag("@daily")
    old = datetime(2024, 1, 2, tzinfo=UTC)
    assert run(latest, runtime, logical_date=old, run_type="manual") == []


def test_latest_only_proceeds_when_no_later_run_will_come(runtime: InMemoryRuntime) -> None:
    _dag, latest = latest_only_dag("@once")
    assert run(latest, runtime, logical_date=datetime(2024, 1, 1, tzinfo=UTC)) == []


def test_latest_only_is_stored_as_a_branch() -> None:
    dag, _ = latest_only_dag("@daily")
    sdag = serialize_dag(dag, fileloc="/dags/l.py", relative_fileloc="l.py")
    assert sdag.task_dict["latest_only"].is_branch
    assert sdag.task_dict["latest_only"].operator == "LatestOnlyOperator"


# -- BranchDateTimeOperator -------------------------------------------------------------------------------


def datetime_branch(lower: Any, upper: Any, **kwargs: Any) -> DAG:
    return branch_dag(
        "dt",
        lambda: BranchDateTimeOperator(
            task_id="when", target_lower=lower, target_upper=upper, follow_task_ids_if_true="yes",
            follow_task_ids_if_false="no", **kwargs,
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("lower", "upper", "at", "skipped"),
    [
        (time(9), time(17), datetime(2024, 5, 1, 12, tzinfo=UTC), ["no"]),
        (time(9), time(17), datetime(2024, 5, 1, 18, tzinfo=UTC), ["yes"]),
        (time(22), time(2), datetime(2024, 5, 1, 23, tzinfo=UTC), ["no"]),  # a window across midnight
        (None, time(8), datetime(2024, 5, 1, 7, tzinfo=UTC), ["no"]),
        (datetime(2024, 5, 2), None, datetime(2024, 5, 1, 7, tzinfo=UTC), ["yes"]),
        (datetime(2024, 4, 1), datetime(2024, 6, 1), datetime(2024, 5, 1, tzinfo=UTC), ["no"]),
    ],
)
def test_branch_datetime_on_the_logical_date(
    runtime: InMemoryRuntime, lower: Any, upper: Any, at: datetime, skipped: list[str]
) -> None:
    dag = datetime_branch(lower, upper, use_task_logical_date=True)
    op = dag.get_task("when")
    assert isinstance(op, BranchDateTimeOperator)
    assert run(op, runtime, logical_date=at) == skipped


def test_branch_datetime_on_the_current_time(runtime: InMemoryRuntime) -> None:
    now = datetime.now(UTC)
    dag = datetime_branch(now - timedelta(hours=1), now + timedelta(hours=1))
    op = dag.get_task("when")
    assert isinstance(op, BranchDateTimeOperator)
    assert run(op, runtime, logical_date=datetime(2000, 1, 1, tzinfo=UTC)) == ["no"]


def test_branch_datetime_needs_a_bound() -> None:
    with pytest.raises(DagDefinitionError, match="both None"):
        datetime_branch(None, None)


# -- BranchDayOfWeekOperator and WeekDay ------------------------------------------------------------------


def weekday_branch(week_day: Any, **kwargs: Any) -> BranchDayOfWeekOperator:
    dag = branch_dag(
        "wd",
        lambda: BranchDayOfWeekOperator(
            task_id="day", week_day=week_day, follow_task_ids_if_true="yes", follow_task_ids_if_false="no",
            **kwargs,
        ),
    )  # fmt: skip
    op = dag.get_task("day")
    assert isinstance(op, BranchDayOfWeekOperator)
    return op


MONDAY = datetime(2024, 5, 6, 10, tzinfo=UTC)
SATURDAY = datetime(2024, 5, 11, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("week_day", "at", "skipped"),
    [
        ("Monday", MONDAY, ["no"]),
        ("monday", SATURDAY, ["yes"]),
        ({"Saturday", "Sunday"}, SATURDAY, ["no"]),
        (WeekDay.SATURDAY, SATURDAY, ["no"]),
        ({WeekDay.SATURDAY, WeekDay.SUNDAY}, MONDAY, ["yes"]),
        (["tuesday", WeekDay.MONDAY], MONDAY, ["no"]),
    ],
)
def test_branch_day_of_week_on_the_logical_date(
    runtime: InMemoryRuntime, week_day: Any, at: datetime, skipped: list[str]
) -> None:
    assert run(weekday_branch(week_day, use_task_logical_date=True), runtime, logical_date=at) == skipped


def test_branch_day_of_week_on_today(runtime: InMemoryRuntime) -> None:
    today = WeekDay(datetime.now(UTC).isoweekday())
    assert run(weekday_branch(today), runtime, logical_date=datetime(2000, 1, 1, tzinfo=UTC)) == ["no"]


def test_branch_day_of_week_refuses_an_unknown_day() -> None:
    with pytest.raises(DagDefinitionError, match="week_day"):
        weekday_branch("Caturday")


def test_weekday_numbers_and_conversion() -> None:
    assert WeekDay.get_weekday_number("sunday") is WeekDay.SUNDAY == 7
    assert WeekDay.convert("Friday") == 5 and WeekDay.convert(WeekDay.MONDAY) == 1
    assert WeekDay.validate_week_day({"Monday", WeekDay.TUESDAY}) == {1, 2}
    with pytest.raises(AttributeError, match="Invalid week day"):
        WeekDay.get_weekday_number("Funday")
    with pytest.raises(TypeError):
        WeekDay.validate_week_day(3)  # type: ignore[arg-type]


def test_base_branch_operator_follows_what_choose_branch_returns(runtime: InMemoryRuntime) -> None:
    class Pick(BaseBranchOperator):
        def choose_branch(self, context: Any) -> str:
            return "yes"

    dag = branch_dag("pick", lambda: Pick(task_id="pick"))
    op = dag.get_task("pick")
    assert isinstance(op, Pick)
    assert run(op, runtime, logical_date=MONDAY) == ["no"]
