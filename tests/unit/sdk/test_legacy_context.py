"""Airflow 2 context names: Airflow 2's values, computed on first read, noted once per try in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.legacy_context import PreviousSuccess
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.python import PythonOperator
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable

LOGICAL = datetime(2026, 3, 4, tzinfo=UTC)
NOTE = "is deprecated (an Airflow 2 name)"


def _context(schedule: Any, run_type: str, end: datetime = LOGICAL, **extra: Any) -> dict[str, Any]:
    with DAG("d", schedule=schedule, start_date=datetime(2026, 1, 1, tzinfo=UTC)) as dag:
        task = BashOperator(task_id="t", bash_command="echo {{ execution_date }} {{ tomorrow_ds }}")
    assert dag.get_task("t") is task
    return build_context(
        task=task, run_id="r", logical_date=LOGICAL, data_interval_start=LOGICAL, data_interval_end=end,
        run_type=run_type, **extra,
    )  # fmt: skip


def _notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if NOTE in r.getMessage()]


def test_scheduled_run_of_a_data_interval_schedule(caplog: pytest.LogCaptureFixture) -> None:
    daily = CronDataIntervalTimetable("0 0 * * *", timezone="UTC")
    context = _context(daily, "scheduled", end=LOGICAL + timedelta(days=1))
    assert context["execution_date"] == LOGICAL
    assert context["next_execution_date"] == LOGICAL + timedelta(days=1)  # the data interval's end
    assert context["prev_execution_date"] == LOGICAL - timedelta(days=1)
    assert (context["next_ds"], context["next_ds_nodash"]) == ("2026-03-05", "20260305")
    assert (context["prev_ds"], context["prev_ds_nodash"]) == ("2026-03-03", "20260303")
    assert (context["tomorrow_ds"], context["tomorrow_ds_nodash"]) == ("2026-03-05", "20260305")
    assert (context["yesterday_ds"], context["yesterday_ds_nodash"]) == ("2026-03-03", "20260303")
    assert context["prev_execution_date_success"] is None and context["prev_start_date_success"] is None
    assert len(_notes(caplog)) == 12  # one per deprecated name read; prev_start_date_success is current


def test_manual_run_uses_its_own_date_for_next_and_prev() -> None:
    context = _context(CronDataIntervalTimetable("0 0 * * *", timezone="UTC"), "manual")
    assert context["next_execution_date"] == LOGICAL and context["prev_execution_date"] == LOGICAL
    assert context["next_ds"] == context["prev_ds"] == "2026-03-04"


def test_a_trigger_schedule_has_a_next_but_no_previous_schedule() -> None:
    context = _context("0 */6 * * *", "scheduled")  # Airflow 3: a cron string runs at its ticks
    assert context["next_execution_date"] == LOGICAL + timedelta(hours=6)
    assert context["prev_execution_date"] is None and context["prev_ds"] is None


def test_notes_once_per_name_and_only_when_read(caplog: pytest.LogCaptureFixture) -> None:
    context = _context(None, "manual")
    copied = {**context}
    assert "execution_date" not in copied and "execution_date" in context
    assert _notes(caplog) == []
    assert context.get("execution_date") == context["execution_date"] == LOGICAL
    assert len(_notes(caplog)) == 1 and "'logical_date'" in _notes(caplog)[0]
    assert context.get("no_such_name", "fallback") == "fallback"
    with pytest.raises(KeyError):
        context["no_such_name"]


def test_previous_success_is_read_lazily() -> None:
    calls: list[int] = []
    before = PreviousSuccess(LOGICAL - timedelta(days=2), LOGICAL - timedelta(days=2, minutes=-5))

    def lookup() -> PreviousSuccess:
        calls.append(1)
        return before

    context = _context(None, "manual", previous_success=lookup)
    assert calls == []
    assert context["prev_execution_date_success"] == before.logical_date
    assert context["prev_start_date_success"] == before.task_start_date
    assert calls == [1]


def test_templates_render_airflow_2_names(caplog: pytest.LogCaptureFixture) -> None:
    context = _context(None, "manual")
    task = context["task"].prepare_for_execution()
    task.render_template_fields(context)
    assert task.bash_command == f"echo {LOGICAL} 2026-03-05"
    assert sorted(m.split("'")[1] for m in _notes(caplog)) == ["execution_date", "tomorrow_ds"]


def test_python_callables_get_the_names_they_ask_for_and_lazy_kwargs(
    caplog: pytest.LogCaptureFixture, runtime: InMemoryRuntime
) -> None:
    seen: dict[str, Any] = {}

    def named(execution_date: datetime, ds: str) -> None:
        seen["named"] = execution_date

    def everything(**kwargs: Any) -> None:
        seen["yesterday"] = f"{kwargs['yesterday_ds']}"
        seen["has_next"] = "next_ds" in kwargs

    with DAG("p", schedule=None) as dag:
        PythonOperator(task_id="named", python_callable=named)
        PythonOperator(task_id="everything", python_callable=everything)
    for task_id in ("named", "everything"):
        task = dag.get_task(task_id)
        context = build_context(task=task, run_id="r", logical_date=LOGICAL)
        task.execute(context)
    assert seen == {"named": LOGICAL, "yesterday": "2026-03-03", "has_next": True}
    noted = sorted(m.split("'")[1] for m in _notes(caplog))
    assert noted == ["execution_date", "yesterday_ds"]  # next_ds was passed but never used
    assert logging.getLogger("tradewind.task.context").isEnabledFor(logging.WARNING)
