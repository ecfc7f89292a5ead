"""The concrete sensors and TriggerDagRunOperator, each poked once against a real runtime twin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG
from tradewind.sdk.context import build_context
from tradewind.sdk.errors import (
    DagDefinitionError,
    TaskDeferred,
    TaskExecutionError,
    TaskFailedNoRetry,
    TaskSkipped,
)
from tradewind.sdk.operators.trigger_dagrun import TriggerDagRunLink, TriggerDagRunOperator
from tradewind.sdk.runtime import DagRunExists, InMemoryRuntime, use_runtime
from tradewind.sdk.sensors.bash import BashSensor
from tradewind.sdk.sensors.date_time import DateTimeSensor, DateTimeSensorAsync
from tradewind.sdk.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor
from tradewind.sdk.sensors.filesystem import FileSensor
from tradewind.sdk.sensors.time import TimeSensor
from tradewind.sdk.sensors.time_delta import TimeDeltaSensor, TimeDeltaSensorAsync
from tradewind.sdk.sensors.weekday import DayOfWeekSensor
from tradewind.sdk.triggers.external_task import DagStateTrigger

LOGICAL = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


@pytest.fixture
def runtime() -> Iterator[InMemoryRuntime]:
    rt = InMemoryRuntime()
    with use_runtime(rt):
        yield rt


def ctx(op: Any, logical_date: datetime = LOGICAL) -> dict[str, Any]:
    context = dict(build_context(task=op, run_id="r1", logical_date=logical_date))
    op.render_template_fields(context)
    return context


def test_file_sensor_globs_recursively_and_ignores_empty_directories(tmp_path: Path) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        flat = FileSensor(task_id="flat", filepath=str(tmp_path / "in" / "*.csv"))
        deep = FileSensor(task_id="deep", filepath=str(tmp_path / "**" / "*.csv"), recursive=True)
        directory = FileSensor(task_id="dir", filepath=str(tmp_path / "landing"))
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "landing").mkdir()
    assert not flat.poke(ctx(flat)) and not deep.poke(ctx(deep)) and not directory.poke(ctx(directory))
    (tmp_path / "in" / "sub" / "a.csv").write_text("x")
    (tmp_path / "landing" / "part-0").write_text("x")
    assert not flat.poke(ctx(flat))
    assert deep.poke(ctx(deep))
    assert directory.poke(ctx(directory))


def test_file_sensor_templates_the_path_and_refuses_other_connections(tmp_path: Path) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = FileSensor(task_id="f", filepath=str(tmp_path / "{{ ds }}.done"))
        with pytest.raises(DagDefinitionError, match="fs_conn_id='s3'"):
            FileSensor(task_id="g", filepath="x", fs_conn_id="s3")
    (tmp_path / "2026-03-02.done").write_text("")
    assert op.poke(ctx(op))


def test_bash_sensor_exit_codes() -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        ok = BashSensor(task_id="ok", bash_command="exit 0")
        later = BashSensor(task_id="later", bash_command="exit 1")
        retry_code = BashSensor(task_id="rc", bash_command="exit 3", retry_exit_code=3)
        broken = BashSensor(task_id="broken", bash_command="exit 2", retry_exit_code=3)
    assert ok.poke(ctx(ok)) is True
    assert later.poke(ctx(later)) is False
    assert retry_code.poke(ctx(retry_code)) is False
    with pytest.raises(TaskFailedNoRetry, match="return code 2"):
        broken.poke(ctx(broken))


def test_time_sensors() -> None:
    now = datetime.now(UTC)
    with DAG("d", schedule=None, start_date=LOGICAL):
        past = DateTimeSensor(task_id="past", target_time="{{ logical_date.isoformat() }}")
        future = DateTimeSensorAsync(task_id="future", target_time=now + timedelta(hours=1))
        delta_past = TimeDeltaSensor(task_id="dp", delta=timedelta(minutes=5))
        delta_future = TimeDeltaSensorAsync(task_id="df", delta=timedelta(minutes=5))
        day_start = TimeSensor(task_id="t", target_time=time(0, 0))
    assert past.poke(ctx(past)) and past.target_time == LOGICAL.isoformat()
    assert not future.poke(ctx(future)) and future.mode == "reschedule"
    assert delta_past.poke(ctx(delta_past))
    assert not delta_future.poke(ctx(delta_future, logical_date=now)) and delta_future.mode == "reschedule"
    assert day_start.poke(ctx(day_start)) or now.time() == time(0, 0)


def test_day_of_week_sensor_on_the_logical_date() -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        monday = DayOfWeekSensor(task_id="m", week_day="Monday", use_task_logical_date=True)
        weekend = DayOfWeekSensor(task_id="w", week_day={"Saturday", "Sunday"}, use_task_logical_date=True)
    assert monday.poke(ctx(monday))
    assert not weekend.poke(ctx(weekend))


def test_external_task_sensor_states_delta_and_groups(runtime: InMemoryRuntime) -> None:
    runtime.dags["up"] = {"load": None, "grp.a": "grp", "grp.b": "grp"}
    yesterday = LOGICAL - timedelta(days=1)
    runtime.runs[("up", "r-1")] = (
        yesterday,
        "running",
        {"load": "success", "grp.a": "success", "grp.b": "running"},
    )
    with DAG("d", schedule=None, start_date=LOGICAL):
        task = ExternalTaskSensor(task_id="t", external_dag_id="up", external_task_id="load",
                                  execution_delta=timedelta(days=1))  # fmt: skip
        same_day = ExternalTaskSensor(task_id="s", external_dag_id="up", external_task_id="load")
        group = ExternalTaskSensor(task_id="g", external_dag_id="up", external_task_group_id="grp",
                                   execution_date_fn=lambda dt: dt - timedelta(days=1))  # fmt: skip
        whole = ExternalTaskSensor(task_id="w", external_dag_id="up", execution_delta=timedelta(days=1),
                                   failed_states=["failed"])  # fmt: skip
        missing = ExternalTaskSensor(task_id="m", external_dag_id="up", external_task_id="nope",
                                     check_existence=True)  # fmt: skip
    assert task.poke(ctx(task))
    assert not same_day.poke(ctx(same_day))
    assert not group.poke(ctx(group))
    assert not whole.poke(ctx(whole))
    with pytest.raises(TaskExecutionError, match="no task"):
        missing.poke(ctx(missing))
    runtime.runs[("up", "r-1")] = (
        yesterday,
        "failed",
        {"load": "success", "grp.a": "success", "grp.b": "success"},
    )
    assert group.poke(ctx(group))
    with pytest.raises(TaskExecutionError, match="failed"):
        whole.poke(ctx(whole))


def test_external_task_sensor_failed_and_skipped_states(runtime: InMemoryRuntime) -> None:
    runtime.dags["up"] = {"load": None}
    runtime.runs[("up", "r")] = (LOGICAL, "running", {"load": "skipped"})
    with DAG("d", schedule=None, start_date=LOGICAL):
        failing = ExternalTaskSensor(task_id="f", external_dag_id="up", external_task_id="load",
                                     failed_states=["failed", "skipped"])  # fmt: skip
        soft = ExternalTaskSensor(task_id="s", external_dag_id="up", external_task_id="load",
                                  failed_states=["skipped"], soft_fail=True)  # fmt: skip
        skipping = ExternalTaskSensor(task_id="k", external_dag_id="up", external_task_id="load",
                                      skipped_states=["skipped"])  # fmt: skip
        with pytest.raises(DagDefinitionError, match="unknown state"):
            ExternalTaskSensor(task_id="x", external_dag_id="up", allowed_states=["skipped"])
    with pytest.raises(TaskExecutionError):
        failing.poke(ctx(failing))
    with pytest.raises(TaskSkipped):
        soft.poke(ctx(soft))
    with pytest.raises(TaskSkipped):
        skipping.poke(ctx(skipping))


def test_external_task_marker_validates_depth() -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        marker = ExternalTaskMarker(task_id="m", external_dag_id="child", external_task_id="wait")
        with pytest.raises(DagDefinitionError, match="recursion_depth"):
            ExternalTaskMarker(task_id="bad", external_dag_id="c", external_task_id="w", recursion_depth=0)
    assert marker.recursion_depth == 10


def test_trigger_dag_run_operator_pushes_the_run_id_and_links_to_it(runtime: InMemoryRuntime) -> None:
    runtime.dags["target"] = {"only": None}
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = TriggerDagRunOperator(task_id="t", trigger_dag_id="{{ 'tar' ~ 'get' }}", trigger_run_id="run-{{ ds }}",
                                   conf={"day": "{{ ds }}"}, logical_date="{{ logical_date.isoformat() }}")  # fmt: skip
        again = TriggerDagRunOperator(task_id="a", trigger_dag_id="target", trigger_run_id="run-2026-03-02")
        skip = TriggerDagRunOperator(task_id="s", trigger_dag_id="target", trigger_run_id="run-2026-03-02",
                                     skip_when_already_exists=True)  # fmt: skip
        reset = TriggerDagRunOperator(task_id="r", trigger_dag_id="target", trigger_run_id="run-2026-03-02",
                                      reset_dag_run=True)  # fmt: skip
    op.execute(ctx(op))
    assert runtime.xcom_pull(dag_id="d", run_id="r1", task_id="t", key="trigger_run_id", map_index=None) == (
        "run-2026-03-02"
    )
    assert runtime.runs[("target", "run-2026-03-02")][0] == LOGICAL
    assert TriggerDagRunLink().get_link(op, ti_key=None) == "/dags/target?run_id=run-2026-03-02"
    with pytest.raises(DagRunExists):
        again.execute(ctx(again))
    with pytest.raises(TaskSkipped):
        skip.execute(ctx(skip))
    reset.execute(ctx(reset))


def test_trigger_dag_run_operator_waits_for_completion(runtime: InMemoryRuntime) -> None:
    runtime.dags["target"] = {}
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = TriggerDagRunOperator(task_id="t", trigger_dag_id="target", trigger_run_id="x",
                                   wait_for_completion=True, poke_interval=0)  # fmt: skip
    polls = []

    def finish_on_third_poll(*, dag_id: str, run_id: str) -> str | None:
        polls.append(run_id)
        return "failed" if len(polls) >= 3 else "running"

    runtime.dag_run_state = finish_on_third_poll  # type: ignore[method-assign]
    with pytest.raises(TaskExecutionError, match="ended failed"):
        op.execute(ctx(op))
    assert polls == ["x", "x", "x"]


def test_deferrable_trigger_defers_on_the_run_state_and_triggers_once(runtime: InMemoryRuntime) -> None:
    runtime.dags["target"] = {}
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = TriggerDagRunOperator(
            task_id="t", trigger_dag_id="target", logical_date="{{ logical_date.isoformat() }}",
            wait_for_completion=True, deferrable=True, poke_interval=30,
        )  # fmt: skip
    with pytest.raises(TaskDeferred) as raised:
        op.execute(ctx(op))
    run_id = f"manual__{LOGICAL.isoformat()}"
    assert list(runtime.runs) == [("target", run_id)]
    trigger = raised.value.trigger
    assert isinstance(trigger, DagStateTrigger)
    assert (trigger.dag_id, trigger.run_ids, trigger.states, trigger.poll_interval) == (
        "target", [run_id], ["success", "failed"], 30.0,
    )  # fmt: skip
    assert runtime.xcom_pull(dag_id="d", run_id="r1", task_id="t", key="trigger_run_id", map_index=None) == run_id
    # Resumed with the trigger's event: no second run, success or failure as the run ended.
    op.execute_complete(ctx(op), {"status": "success", "run_states": {run_id: "success"}}, run_id=run_id)
    with pytest.raises(TaskExecutionError, match="ended failed"):
        op.execute_complete(ctx(op), {"status": "success", "run_states": {run_id: "failed"}}, run_id=run_id)
    assert list(runtime.runs) == [("target", run_id)]
