"""Sensors with deferrable=True: a first poke, then a deferral on their trigger (time sensors on a
DateTimeTrigger, FileSensor on a FileTrigger, ExternalTaskSensor on a WorkflowTrigger); execute_complete
reads the event; a sensor without a trigger keeps to reschedule mode. WorkflowTrigger counts as the sensor."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG
from tradewind.sdk.context import build_context
from tradewind.sdk.errors import TaskDeferred, TaskExecutionError, TaskSkipped
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime
from tradewind.sdk.sensors.date_time import DateTimeSensorAsync
from tradewind.sdk.sensors.external_task import ExternalTaskSensor
from tradewind.sdk.sensors.filesystem import FileSensor
from tradewind.sdk.sensors.time_delta import TimeDeltaSensorAsync
from tradewind.sdk.triggers.base import TriggerEvent
from tradewind.sdk.triggers.external_task import DagStateTrigger, WorkflowTrigger
from tradewind.sdk.triggers.file import FileTrigger
from tradewind.sdk.triggers.temporal import DateTimeTrigger

LOGICAL = datetime(2030, 3, 2, tzinfo=UTC)


class States(InMemoryRuntime):
    """Another DAG's states, as the execution API or the triggerer would answer."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, str] = {}
        self.runs: dict[str, str] = {}

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        return [self.tasks[t] for _ in logical_dates for t in task_ids if t in self.tasks]

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        return self.runs.get(run_id)


@pytest.fixture
def runtime() -> Iterator[States]:
    states = States()
    with use_runtime(states):
        yield states


def context_for(op: Any) -> dict[str, Any]:
    return dict(build_context(task=op, run_id="r1", logical_date=LOGICAL, try_number=1))


def deferral(op: Any) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as raised:
        op.execute(context_for(op))
    return raised.value


def test_time_sensors_defer_on_a_date_time_trigger_with_their_timeout(runtime: States) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        delta = TimeDeltaSensorAsync(task_id="delta", delta=timedelta(hours=1), timeout=600)
        moment = DateTimeSensorAsync(task_id="moment", target_time=LOGICAL + timedelta(days=3))
    signal = deferral(delta)
    assert isinstance(signal.trigger, DateTimeTrigger) and signal.trigger.moment == LOGICAL + timedelta(
        hours=1
    )
    assert (signal.method_name, signal.timeout) == ("execute_complete", timedelta(seconds=600))
    assert deferral(moment).trigger.moment == LOGICAL + timedelta(days=3)
    assert delta.execute_complete(context_for(delta), event=LOGICAL) is None


def test_file_sensor_pokes_first_then_defers_on_a_file_trigger(runtime: States, tmp_path: Path) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        sensor = FileSensor(task_id="f", filepath=str(tmp_path / "*.csv"), deferrable=True, poke_interval=3)
    signal = deferral(sensor)
    assert isinstance(signal.trigger, FileTrigger)
    assert signal.trigger.serialize()[1] == {"filepath": str(tmp_path / "*.csv"), "recursive": False,
                                             "poke_interval": 3.0}  # fmt: skip
    (tmp_path / "a.csv").write_text("x")
    assert sensor.execute(context_for(sensor)) is None  # already there: no deferral


def test_external_task_sensor_defers_on_a_workflow_trigger_and_reads_its_event(runtime: States) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        sensor = ExternalTaskSensor(task_id="e", external_dag_id="up", external_task_id="load", deferrable=True,
                                    failed_states=["failed"], poke_interval=0.05)  # fmt: skip
        soft = ExternalTaskSensor(task_id="s", external_dag_id="up", external_task_id="load", deferrable=True,
                                  soft_fail=True)  # fmt: skip
    trigger = deferral(sensor).trigger
    assert isinstance(trigger, WorkflowTrigger)
    assert (trigger.external_dag_id, trigger.logical_dates, trigger.external_task_ids) == (
        "up",
        [LOGICAL],
        ["load"],
    )

    async def first() -> TriggerEvent:
        events = trigger.run()
        try:
            return await asyncio.wait_for(anext(events), 5)  # type: ignore[arg-type]
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    runtime.tasks["load"] = "success"
    assert asyncio.run(first()) == TriggerEvent({"status": "success"})
    runtime.tasks["load"] = "failed"
    assert asyncio.run(first()) == TriggerEvent({"status": "failed"})
    assert sensor.execute_complete(context_for(sensor), {"status": "success"}) is None
    with pytest.raises(TaskExecutionError):
        sensor.execute_complete(context_for(sensor), {"status": "failed"})
    with pytest.raises(TaskSkipped):
        soft.execute_complete(context_for(soft), {"status": "failed"})
    with pytest.raises(TaskSkipped):
        sensor.execute_complete(context_for(sensor), {"status": "skipped"})


def test_dag_state_trigger_waits_for_every_run(runtime: States) -> None:
    trigger = DagStateTrigger(
        dag_id="up", states=["success", "failed"], run_ids=["a", "b"], poll_interval=0.05
    )

    async def wait() -> TriggerEvent:
        events = trigger.run()
        waiting = asyncio.create_task(anext(events))  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
        assert not waiting.done()
        runtime.runs.update(a="success", b="failed")
        try:
            return await asyncio.wait_for(waiting, 5)
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    runtime.runs["a"] = "success"
    assert asyncio.run(wait()) == TriggerEvent(
        {"status": "success", "run_states": {"a": "success", "b": "failed"}}
    )
