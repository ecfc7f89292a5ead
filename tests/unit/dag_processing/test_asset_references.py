"""The DAG processor stores which DAGs are scheduled on which assets and which tasks produce them, and
replaces that when a DAG changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.isolated_import import ParsedFile
from tradewind.dag_processing.recording import FileBatch, FileContent
from tradewind.sdk.assets import Asset, AssetAlias
from tradewind.sdk.schedules import timetable_from_schedule, timetable_to_dict
from tradewind.store import assets
from tradewind.store.engine import make_session_factory, transaction

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
A, B = Asset("s3://b/a", extra={"owner": "team"}), Asset("s3://b/b")


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


def _dag(dag_id: str, schedule: object, outlets: list[Asset]) -> SerializedDag:
    return SerializedDag(
        dag_id=dag_id, fileloc=f"/dags/{dag_id}.py", relative_fileloc=f"{dag_id}.py",
        timetable=timetable_to_dict(timetable_from_schedule(schedule)),
        tasks=[SerializedTask(task_id="t", operator="BashOperator",
                              outlets=[o.to_condition() for o in outlets])],  # type: ignore[call-arg]
    )  # fmt: skip


def _record(sessions: sessionmaker[Session], sdag: SerializedDag, now: datetime) -> None:
    ref = DagFileRef(path=Path(sdag.fileloc), relative_fileloc=sdag.relative_fileloc)
    with transaction(sessions) as session:
        batch = FileBatch(session=session, paused_default=False, now=now)
        batch.load([sdag.dag_id])
        batch.decide(
            parsed=ParsedFile(ref, [sdag], [], 0.01),
            content=FileContent(text="#", content_hash=f"h-{now}", mtime=1.0),
            previously_owned=frozenset({sdag.dag_id}),
            owners={},
            had_error=False,
        )
        batch.write()


def _lineage(sessions: sessionmaker[Session]) -> dict[str, tuple[list[str], list[tuple[str, str]]]]:
    with sessions() as session:
        rows, _ = assets.list_assets(session=session)
        ids = [r.id for r in rows]
        consumers = assets.consuming_dags(session=session, asset_ids=ids)
        producers = assets.producing_tasks(session=session, asset_ids=ids)
        return {r.uri: (consumers[r.id], producers[r.id]) for r in rows}


def test_schedules_and_outlets_are_stored_and_replaced_on_change(sessions: sessionmaker[Session]) -> None:
    _record(sessions, _dag("producer", None, [A]), NOW)
    _record(sessions, _dag("consumer", A & B, [B]), NOW)
    assert _lineage(sessions) == {
        "s3://b/a": (["consumer"], [("producer", "t")]),
        "s3://b/b": (["consumer"], [("consumer", "t")]),
    }
    with sessions() as session:
        stored = assets.find_asset(session=session, uri="s3://b/a")
        assert stored is not None and stored.extra == {"owner": "team"}

    _record(sessions, _dag("consumer", [B], []), NOW + timedelta(minutes=1))
    assert _lineage(sessions) == {
        "s3://b/a": ([], [("producer", "t")]),
        "s3://b/b": (["consumer"], []),
    }


def test_a_dag_scheduled_on_an_alias_is_a_consumer_of_the_assets_it_resolved_to(
    sessions: sessionmaker[Session],
) -> None:
    _record(sessions, _dag("on_alias", AssetAlias("late"), []), NOW)
    assert _lineage(sessions) == {}
    with transaction(sessions) as session:
        assets.record_events(
            session=session,
            events=[{"asset": B.to_dict(), "extra": {}, "alias": "late"}],
            source=None,
            now=NOW,
        )
    assert _lineage(sessions) == {"s3://b/b": (["on_alias"], [])}
