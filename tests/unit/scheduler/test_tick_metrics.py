"""What a tick records: tries started and ended by state with their durations, run durations, schedule delay,
zombies, slot gauges; and nothing twice when a tick's transaction is rolled back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import act_as_runner, trigger
from tests.unit.scheduler.twins import RecordingExecutor, make_dag, store_dag
from tradewind.config.settings import Settings
from tradewind.core.clock import FrozenClock
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.states import TaskInstanceState
from tradewind.observability.metrics import Metrics
from tradewind.observability.metrics_prometheus import PrometheusExporter
from tradewind.scheduler.tick import Scheduler
from tradewind.store import task_instances
from tradewind.store.engine import transaction


@pytest.fixture
def exporter() -> PrometheusExporter:
    return PrometheusExporter()


@pytest.fixture
def measured(
    sched_settings: Settings,
    sessions: sessionmaker[Session],
    executor: RecordingExecutor,
    exporter: PrometheusExporter,
    clock: FrozenClock,
) -> Scheduler:
    return Scheduler(
        settings=sched_settings, session_factory=sessions, executor=executor, job_id=None, metrics=Metrics([exporter]),
        monotonic=clock.monotonic,
    )  # fmt: skip


def value(exporter: PrometheusExporter, name: str, **labels: str) -> float | None:
    return exporter.registry.get_sample_value(name, labels)


def test_a_run_is_counted_from_start_to_end(
    sessions: sessionmaker[Session],
    measured: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    exporter: PrometheusExporter,
) -> None:
    store_dag(sessions, make_dag("m", {"a": ["b"], "b": []}))
    trigger(sessions, "m")
    measured.tick(clock.now())
    [wa] = executor.take()
    executor._emit(TaskEvent(wa.try_key, TryProcessEvent.STARTED))
    clock.advance(timedelta(seconds=2))
    act_as_runner(sessions, wa, TaskInstanceState.SUCCESS, now=clock.now())
    executor.finish(wa.try_key, TryProcessEvent.EXITED_CLEANLY)
    measured.tick(clock.now())
    [wb] = executor.take()
    act_as_runner(sessions, wb, TaskInstanceState.FAILED, now=clock.now())
    executor.finish(wb.try_key, TryProcessEvent.FAILED)
    clock.advance(timedelta(seconds=1))
    measured.tick(clock.now())

    a, b = {"dag_id": "m", "task_id": "a"}, {"dag_id": "m", "task_id": "b"}
    assert value(exporter, "tradewind_ti_start_total", **a) == 1
    assert value(exporter, "tradewind_ti_finish_total", **a, state="success") == 1
    assert value(exporter, "tradewind_ti_finish_total", **b, state="failed") == 1
    assert value(exporter, "tradewind_task_queued_duration_seconds_sum", **a) == 2.0
    assert value(exporter, "tradewind_task_duration_seconds_count", **a) == 1
    assert value(exporter, "tradewind_dagrun_duration_seconds_sum", dag_id="m", state="failed") == 3.0


def test_a_rolled_back_tick_does_not_count_twice(
    sessions: sessionmaker[Session],
    measured: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    exporter: PrometheusExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store_dag(sessions, make_dag("once", {"a": []}))
    trigger(sessions, "once")
    measured.tick(clock.now())
    [w] = executor.take()
    act_as_runner(sessions, w, TaskInstanceState.SUCCESS, now=clock.now())
    executor.finish(w.try_key, TryProcessEvent.EXITED_CLEANLY)
    # The loop takes the clean exit at its wake-up and leaves it to a tick a loop interval later (ADR 0027):
    # that tick counts the end, once.
    assert measured.events_can_wait()
    clock.advance(timedelta(seconds=measured.settings.scheduler.loop_interval))

    from tradewind.scheduler import tick as tick_module

    def refuse(**_kw: object) -> int:
        raise RuntimeError("the database went away mid-tick")

    monkeypatch.setattr(tick_module, "create_scheduled_runs", refuse)
    with pytest.raises(RuntimeError):
        measured.tick(clock.now())
    monkeypatch.undo()
    measured.tick(clock.now())
    assert value(exporter, "tradewind_ti_finish_total", dag_id="once", task_id="a", state="success") == 1


def test_zombies_and_slot_gauges_come_with_housekeeping(
    sessions: sessionmaker[Session],
    measured: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    exporter: PrometheusExporter,
) -> None:
    store_dag(sessions, make_dag("z", {"a": []}, tasks={"a": {"retries": 1, "retry_delay": 0.0}}))
    trigger(sessions, "z")
    measured.tick(clock.now())
    [w] = executor.take()
    measured.housekeeping(clock.now())
    assert value(exporter, "tradewind_pool_queued_slots", pool_name="default_pool") == 1
    assert value(exporter, "tradewind_executor_open_slots", executor="local") == 31
    with transaction(sessions) as session:
        task_instances.transition(
            session=session,
            key=w.ti_key,
            expected=TaskInstanceState.QUEUED,
            target=TaskInstanceState.RUNNING,
            try_number=1,
            values={"start_date": clock.now(), "last_heartbeat_at": clock.now()},
        )
    measured.housekeeping(clock.now())
    assert value(exporter, "tradewind_pool_running_slots", pool_name="default_pool") == 1
    assert value(exporter, "tradewind_pool_queued_slots", pool_name="default_pool") == 0
    clock.advance(timedelta(seconds=measured.settings.scheduler.zombie_threshold + 1))
    measured.housekeeping(clock.now())
    assert value(exporter, "tradewind_zombies_killed_total", dag_id="z", task_id="a") == 1
    assert value(exporter, "tradewind_ti_finish_total", dag_id="z", task_id="a", state="up_for_retry") == 1
