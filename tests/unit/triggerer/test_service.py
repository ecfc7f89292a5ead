"""The triggerer service with its real child process: it claims a trigger, the child fires it, the service
schedules the waiting task instance with the event; a second triggerer takes over the triggers of one that
stopped heartbeating, and the first then cancels them."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.waiting import wait_for
from tradewind.config.settings import Settings, load_settings
from tradewind.core.json_values import to_tagged_json
from tradewind.store import triggers, variables
from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.tables import JobModel, TaskInstanceModel, TriggerModel
from tradewind.triggerer.service import TriggererService

DATE_TIME = "tradewind.sdk.triggers.temporal.DateTimeTrigger"
READING = "tests.unit.triggerer.reading_triggers"


@pytest.fixture
def settings(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__TRIGGERER__HEARTBEAT_INTERVAL", "0.5")
    monkeypatch.setenv("TRADEWIND__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD", "1")
    monkeypatch.setenv("TRADEWIND__TRIGGERER__POLL_INTERVAL", "0.1")
    return load_settings()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def services(settings: Settings, migrated_engine: Engine) -> Iterator[Callable[[], TriggererService]]:
    started: list[tuple[TriggererService, threading.Event, threading.Thread]] = []

    def start() -> TriggererService:
        service = TriggererService(settings, engine=migrated_engine, env=dict(os.environ))
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        started.append((service, stop, thread))
        wait_for(lambda: service.job_id is not None, what="service")
        return service

    yield start
    for _service, stop, thread in started:
        stop.set()
        thread.join(timeout=30)


def _deferred(
    sessions: sessionmaker[Session],
    moment: datetime,
    classpath: str = DATE_TIME,
    kwargs: dict[str, object] | None = None,
) -> tuple[int, int]:
    with transaction(sessions) as session:
        trigger_id = triggers.create_trigger(
            session=session,
            classpath=classpath,
            kwargs=to_tagged_json({"moment": moment} if kwargs is None else kwargs),
            now=moment,
        )
        ti = TaskInstanceModel(
            dag_id="d", run_id="r", task_id=f"t{trigger_id}", map_index=-1, state="deferred", try_number=1,
            trigger_id=trigger_id, next_method="done", next_kwargs={"x": 1},
        )  # fmt: skip
        session.add(ti)
        session.flush()
        return trigger_id, ti.id


def _ti(sessions: sessionmaker[Session], ti_id: int) -> TaskInstanceModel:
    with sessions() as session:
        ti = session.get(TaskInstanceModel, ti_id)
        assert ti is not None
        return ti


def test_a_claimed_trigger_fires_and_its_task_is_scheduled_with_the_event(
    sessions: sessionmaker[Session], services: Callable[[], TriggererService]
) -> None:
    moment = datetime.now(UTC) + timedelta(seconds=0.5)
    _trigger_id, ti_id = _deferred(sessions, moment)
    services()
    wait_for(lambda: _ti(sessions, ti_id).state == "scheduled", what="the task to be scheduled")
    ti = _ti(sessions, ti_id)
    assert (ti.trigger_id, ti.next_method, ti.try_number) == (None, "done", 1)
    assert ti.next_kwargs == {
        "x": 1,
        "event": {"__tradewind_type__": "datetime", "value": moment.isoformat()},
    }
    with sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == []


def test_a_second_triggerer_takes_over_from_one_that_stopped_heartbeating(
    sessions: sessionmaker[Session], services: Callable[[], TriggererService]
) -> None:
    trigger_id, _ti_id = _deferred(sessions, datetime.now(UTC) + timedelta(hours=1))
    first = services()
    wait_for(lambda: trigger_id in first.running, what="the first triggerer to run the trigger")
    second = services()
    time.sleep(0.5)
    assert trigger_id not in second.running  # the first is alive: its trigger stays its own
    # The first one's heartbeat stops (a stall, a network split): the second takes the trigger over.
    with transaction(sessions) as session:
        session.execute(
            update(JobModel)
            .where(JobModel.id == first.job_id)
            .values(latest_heartbeat=datetime(2000, 1, 1, tzinfo=UTC))
        )
        first._last_heartbeat = time.monotonic() + 3600  # keeps it from beating again
    wait_for(lambda: trigger_id in second.running, what="the second triggerer to take the trigger over")
    wait_for(lambda: trigger_id not in first.running, what="the first triggerer to cancel it")


def test_trigger_code_reads_through_the_triggerer_and_cannot_write(
    sessions: sessionmaker[Session], services: Callable[[], TriggererService]
) -> None:
    with transaction(sessions) as session:
        variables.set_variable(session=session, key="partner_url", value="https://partner.example")
    now = datetime.now(UTC)
    _, reads = _deferred(sessions, now, f"{READING}.ReadsVariable", {"key": "partner_url"})
    _, writes = _deferred(sessions, now, f"{READING}.WritesVariable", {})
    services()
    wait_for(lambda: _ti(sessions, reads).state == "scheduled", what="the reading trigger to fire")
    wait_for(lambda: _ti(sessions, writes).state == "scheduled", what="the writing trigger to fail")
    assert _ti(sessions, reads).next_kwargs == {"x": 1, "event": {"value": "https://partner.example"}}
    failed = _ti(sessions, writes)
    assert failed.next_method == "__fail__"
    assert "set_variable is not available to triggers" in "".join(failed.next_kwargs["traceback"])


def test_a_failing_watcher_is_kept_and_started_again_with_backoff(
    services: Callable[[], TriggererService],
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tradewind.store.tables import AssetModel, AssetWatcherModel
    from tradewind.triggerer import service as service_module

    monkeypatch.setattr(service_module, "RESTART_BACKOFF", 0.2)
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        asset = AssetModel(name="a", uri="a", group="asset", extra={}, created_at=now, updated_at=now)
        session.add(asset)
        session.flush()
        trigger_id = triggers.create_trigger(session=session, classpath="no_such_module.Nope", kwargs={}, now=now)
        session.add(AssetWatcherModel(asset_id=asset.id, trigger_id=trigger_id, name="w"))
    service = services()
    wait_for(lambda: service.backoff.get(trigger_id, (0.0, 0))[1] >= 3, what="the watcher to fail three times")
    first, _ = service.backoff[trigger_id]
    assert first > time.monotonic() - 5  # backed off, not abandoned
    with sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == [trigger_id]  # kept
        assert triggers.held_trigger_ids(session=session, triggerer_id=service.job_id or 0) == {trigger_id}
    assert "No module named 'no_such_module'" in caplog.text


def test_the_child_starts_at_the_first_trigger_and_stops_when_idle(
    sessions: sessionmaker[Session],
    services: Callable[[], TriggererService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tradewind.triggerer import service as service_module

    monkeypatch.setattr(service_module, "CHILD_IDLE_STOP", 0.5)
    service = services()
    wait_for(lambda: service._last_sync > 0, what="a first look for triggers")
    assert service.child is None  # nothing to run: no child interpreter
    _trigger_id, ti_id = _deferred(sessions, datetime.now(UTC) + timedelta(seconds=2))
    child = wait_for(lambda: service.child and service.child.process, what="a child for the trigger")
    wait_for(lambda: _ti(sessions, ti_id).state == "scheduled", what="the task to be scheduled")
    wait_for(lambda: service.child is None, what="the idle child to be stopped")
    assert child.poll() is not None
    # The next trigger starts a child again.
    _trigger_id, ti_id = _deferred(sessions, datetime.now(UTC))
    wait_for(lambda: _ti(sessions, ti_id).state == "scheduled", what="the second task to be scheduled")
