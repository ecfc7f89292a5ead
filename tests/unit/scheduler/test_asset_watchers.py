"""Asset watchers: stored as trigger rows tied to their asset when the DAG is parsed (kept as they are on an
unchanged parse, dropped with the watcher or the DAG), and a firing watcher records an asset event, keeps its
trigger and makes the scheduler create the DAG run."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_asset_scheduling import asset_runs, consumer, store
from tests.unit.scheduler.twins import START
from tradewind.core.clock import FrozenClock
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.assets import Asset, AssetWatcher
from tradewind.sdk.triggers.file import DirectoryFileDeleteTrigger, FileDeleteTrigger
from tradewind.store import asset_queue, assets, dags, triggers
from tradewind.store.engine import transaction
from tradewind.store.tables import AssetEventModel, AssetWatcherModel, TriggerModel

FILE_DELETE = "tradewind.sdk.triggers.file.FileDeleteTrigger"


def watched(path: str = "/tmp/w/flag", name: str = "w1") -> Asset:
    return Asset("watched", watchers=[AssetWatcher(name=name, trigger=FileDeleteTrigger(filepath=path))])


def watcher_rows(sessions: sessionmaker[Session]) -> list[tuple[int, str, str, dict[str, object]]]:
    with sessions() as session:
        rows = session.execute(
            select(AssetWatcherModel.trigger_id, AssetWatcherModel.name, TriggerModel.classpath,
                   TriggerModel.kwargs)
            .join(TriggerModel, TriggerModel.id == AssetWatcherModel.trigger_id)
            .order_by(AssetWatcherModel.trigger_id)
        ).all()  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_parsing_stores_one_trigger_per_watcher_without_churn_and_drops_removed_ones(
    sessions: sessionmaker[Session],
) -> None:
    store(sessions, consumer("consumer", [watched()]))
    [(first_id, name, classpath, kwargs)] = watcher_rows(sessions)
    assert (name, classpath, kwargs) == ("w1", FILE_DELETE, {"filepath": "/tmp/w/flag", "poke_interval": 5.0})

    store(sessions, consumer("consumer", [watched()]))  # parsed again, unchanged
    assert [row[0] for row in watcher_rows(sessions)] == [first_id]

    store(sessions, consumer("consumer", [watched("/tmp/w/other")]))  # the watcher changed: a new trigger
    [(_, _, _, kwargs)] = watcher_rows(sessions)
    assert kwargs["filepath"] == "/tmp/w/other"
    with sessions() as session:
        assert len(session.scalars(select(TriggerModel.id)).all()) == 1  # the old one is gone

    store(sessions, consumer("consumer", [Asset("watched")]))  # no watcher any more
    assert watcher_rows(sessions) == []
    with sessions() as session:
        assert list(session.scalars(select(TriggerModel.id)).all()) == []


def test_a_deactivated_dags_watchers_go_and_cleanup_keeps_live_watchers(
    sessions: sessionmaker[Session],
) -> None:
    store(sessions, consumer("consumer", [watched()]))
    with transaction(sessions) as session:
        assert triggers.delete_unreferenced(session=session) == 0  # no task waits on it, yet it is kept
    assert len(watcher_rows(sessions)) == 1
    with transaction(sessions) as session:
        dags.deactivate_dags(session=session, dag_ids=["consumer"])
        assets.sync_dag_references(session=session, sdags=[], now=START)
    assert watcher_rows(sessions) == []


def test_a_firing_watcher_records_an_asset_event_keeps_its_trigger_and_runs_the_dag(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, consumer("consumer", [watched()]))
    [(trigger_id, *_)] = watcher_rows(sessions)
    with transaction(sessions) as session:
        assert triggers.claim_triggers(session=session, triggerer_id=7, alive_triggerer_ids=[7], limit=5) == [
            trigger_id
        ]
        # Another triggerer's report is dropped.
        assert triggers.fire_trigger(session=session, trigger_id=trigger_id, triggerer_id=8, payload=True,
                                     now=START) is None  # fmt: skip
        assert triggers.fire_trigger(session=session, trigger_id=trigger_id, triggerer_id=7, payload=True,
                                     now=START) == 1  # fmt: skip
    with sessions() as session:
        [event] = session.scalars(select(AssetEventModel)).all()
        assert event.extra == {"from_trigger": True, "payload": True} and event.source_dag_id is None
        assert len(asset_queue.queued_events(session=session, dag_id="consumer")) == 1
        assert triggers.held_trigger_ids(session=session, triggerer_id=7) == {trigger_id}  # watches on
    scheduler.tick(clock.now())
    assert len(asset_runs(sessions, "consumer")) == 1
    with transaction(sessions) as session:  # a failure keeps the watcher too (the triggerer restarts it)
        assert triggers.fail_trigger(session=session, trigger_id=trigger_id, triggerer_id=7,
                                     traceback=["boom\n"], now=START) == 0  # fmt: skip
    assert [row[0] for row in watcher_rows(sessions)] == [trigger_id]


def test_watchers_are_part_of_the_stored_condition() -> None:
    trigger = DirectoryFileDeleteTrigger(directory="/tmp/flags", filename="us.flag", poke_interval=2)
    asset = Asset("flags", watchers=[AssetWatcher(name="us", trigger=trigger)])
    assert asset.to_condition()["asset"]["watchers"] == [
        {"name": "us", "classpath": "tradewind.sdk.triggers.file.DirectoryFileDeleteTrigger",
         "kwargs": {"directory": "/tmp/flags", "filename": "us.flag", "poke_interval": 2.0}},
    ]  # fmt: skip
    assert "watchers" not in Asset("plain").to_condition()["asset"]


def test_deleting_the_dag_drops_its_watchers(sessions: sessionmaker[Session]) -> None:
    store(sessions, consumer("consumer", [watched()]), consumer("other", [Asset("unwatched")]))
    with transaction(sessions) as session:
        dags.delete_dag(session=session, dag_id="other")
    assert len(watcher_rows(sessions)) == 1
    with transaction(sessions) as session:
        dags.delete_dag(session=session, dag_id="consumer")
    assert watcher_rows(sessions) == []
