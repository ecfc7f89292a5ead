"""Triggers and deferral in the SDK: serialization round trips, the time and file triggers fire, defer()
raises TaskDeferred, and resume_execution means what Airflow's does (event, "__fail__", timeout)."""

from __future__ import annotations

import asyncio
import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradewind.core.json_values import from_tagged_json, to_tagged_json
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import (
    SensorTimeout,
    TaskControlSignal,
    TaskDeferralError,
    TaskDeferralTimeout,
    TaskDeferred,
    TaskSkipped,
)
from tradewind.sdk.sensors.base import BaseSensorOperator
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent
from tradewind.sdk.triggers.file import FileDeleteTrigger, FileTrigger
from tradewind.sdk.triggers.temporal import DateTimeTrigger, TimeDeltaTrigger


def rebuild(trigger: BaseTrigger) -> BaseTrigger:
    """What the triggerer does: class path and arguments through JSON, then the class called again."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    stored = to_tagged_json(kwargs)
    import json

    stored = json.loads(json.dumps(stored))
    cls = getattr(importlib.import_module(module), name)
    rebuilt: BaseTrigger = cls(**from_tagged_json(stored))
    return rebuilt


async def first_event(trigger: BaseTrigger, timeout: float = 5.0) -> TriggerEvent:
    events = trigger.run()
    try:
        return await asyncio.wait_for(anext(events), timeout)  # type: ignore[arg-type]
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def test_time_triggers_round_trip_through_json_and_fire() -> None:
    moment = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    rebuilt = rebuild(DateTimeTrigger(moment))
    assert isinstance(rebuilt, DateTimeTrigger) and rebuilt.moment == moment
    delta = TimeDeltaTrigger(timedelta(seconds=0.2))
    rebuilt = rebuild(delta)
    # Stored as the moment it fires: a triggerer restarting does not start the wait again.
    assert type(rebuilt) is DateTimeTrigger and rebuilt.moment == delta.moment  # type: ignore[attr-defined]
    started = datetime.now(UTC)
    event = asyncio.run(first_event(rebuilt))
    assert event == TriggerEvent(delta.moment)
    assert datetime.now(UTC) >= delta.moment and datetime.now(UTC) - started < timedelta(seconds=2)
    with pytest.raises(ValueError, match="timezone-aware"):
        DateTimeTrigger(datetime(2030, 1, 1))


def test_file_triggers_fire_when_a_file_lands(tmp_path: Path) -> None:
    trigger = rebuild(FileTrigger(str(tmp_path / "in" / "*.csv"), poke_interval=0.05))
    assert trigger.serialize()[1] == {"filepath": str(tmp_path / "in" / "*.csv"), "recursive": False,
                                      "poke_interval": 0.05}  # fmt: skip

    async def land_later() -> TriggerEvent:
        waiting = asyncio.create_task(first_event(trigger))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "orders.csv").write_text("x")
        return await waiting

    assert asyncio.run(land_later()) == TriggerEvent(True)
    target = tmp_path / "drop.txt"
    target.write_text("x")
    deleting = rebuild(FileDeleteTrigger(str(target), poke_interval=0.05))
    assert asyncio.run(first_event(deleting)) == TriggerEvent(True)
    assert not target.exists()


def test_tagged_json_round_trips_dates_and_refuses_objects() -> None:
    value = {
        "at": datetime(2030, 1, 1, tzinfo=UTC),
        "wait": timedelta(minutes=3),
        "n": [1, (2, 3)],
        "s": None,
    }
    assert from_tagged_json(to_tagged_json(value)) == {**value, "n": [1, [2, 3]]}
    with pytest.raises(TypeError):
        to_tagged_json({"x": object()})
    with pytest.raises(TypeError):
        to_tagged_json(float("nan"))


class Waits(BaseOperator):
    def execute(self, context: Any) -> None:
        self.defer(
            trigger=TimeDeltaTrigger(timedelta(seconds=5)), method_name="done", kwargs={"x": 1}, timeout=30
        )

    def done(self, context: Any, event: Any = None, x: int = 0) -> tuple[Any, int]:
        return event, x


def test_defer_raises_task_deferred_and_resume_calls_the_method_with_the_event() -> None:
    task = Waits(task_id="w")
    with pytest.raises(TaskDeferred) as raised:
        task.execute({})
    signal = raised.value
    assert isinstance(signal, TaskControlSignal)
    assert (signal.method_name, signal.kwargs, signal.timeout) == ("done", {"x": 1}, timedelta(seconds=30))
    assert isinstance(signal.trigger, TimeDeltaTrigger)
    assert task.resume_execution("done", {"x": 2, "event": "fired"}, {}) == ("fired", 2)


def test_resume_with_fail_raises_the_trigger_error_or_the_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    task = Waits(task_id="w")
    lines = ["Traceback (most recent call last):\n", "RuntimeError: boom\n"]
    with pytest.raises(TaskDeferralError, match="Trigger failure"):
        task.resume_execution("__fail__", {"error": "Trigger failure", "traceback": lines}, {})
    assert (
        "Trigger failed:\nTraceback (most recent call last):\nRuntimeError: boom" in capsys.readouterr().out
    )
    with pytest.raises(TaskDeferralTimeout):
        task.resume_execution("__fail__", {"error": "Trigger/execution timeout"}, {})
    with pytest.raises(TaskDeferralError, match="Unknown"):
        task.resume_execution("__fail__", None, {})


class Sense(BaseSensorOperator):
    def poke(self, context: Any) -> bool:
        return False


@pytest.mark.parametrize(
    ("soft_fail", "error", "expected"),
    [
        (False, "Trigger/execution timeout", SensorTimeout),
        (True, "Trigger/execution timeout", TaskSkipped),
        (False, "Trigger failure", TaskDeferralError),
        (True, "Trigger failure", TaskSkipped),
    ],
)
def test_a_sensor_resumed_to_fail_times_out_or_skips_with_soft_fail(
    soft_fail: bool, error: str, expected: type[Exception]
) -> None:
    with pytest.raises(expected):
        Sense(task_id="s", soft_fail=soft_fail).resume_execution("__fail__", {"error": error}, {})


def test_airflow_import_names_serve_the_triggers() -> None:
    from tradewind.compat.airflow.names import AIRFLOW_NAMES

    assert AIRFLOW_NAMES["airflow.triggers.base"]["BaseTrigger"] == "tradewind.sdk.triggers.base:BaseTrigger"
    assert AIRFLOW_NAMES["airflow.providers.standard.triggers.temporal"]["TimeDeltaTrigger"].endswith(
        ":TimeDeltaTrigger"
    )
    assert AIRFLOW_NAMES["airflow.providers.standard.triggers.file"]["FileDeleteTrigger"].endswith(
        ":FileDeleteTrigger"
    )
    assert AIRFLOW_NAMES["airflow.exceptions"]["TaskDeferred"] == "tradewind.sdk.errors:TaskDeferred"
