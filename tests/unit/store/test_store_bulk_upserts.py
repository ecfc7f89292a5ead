"""Bulk upserts from the DAG processor: many DAGs and file records stored in a fixed number of statements,
with the same meaning as storing them one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import SerializedDag
from tradewind.store import dag_files, dags
from tradewind.store.dag_files import DagFileRecord, get_dag_file, upsert_dag_files
from tradewind.store.dags import (
    deactivate_dags,
    get_dag,
    get_serialized_dag,
    list_dags,
    set_paused,
    upsert_dags,
)
from tradewind.store.tables import DagTagModel, SerializedDagModel

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
MakeSdag = Callable[..., SerializedDag]


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session sends while the block runs."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _tags(session: Session) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for dag_id, name in session.execute(select(DagTagModel.dag_id, DagTagModel.name)):
        found.setdefault(dag_id, set()).add(name)
    return found


def _last_updated(session: Session, dag_id: str) -> datetime:
    return session.scalars(
        select(SerializedDagModel.last_updated).where(SerializedDagModel.dag_id == dag_id)
    ).one()


def test_upsert_dags_creates_and_updates_a_mixed_batch(session: Session, make_sdag: MakeSdag) -> None:
    upsert_dags(
        session=session,
        sdags=[
            make_sdag("kept", tags=["a"]),
            make_sdag("user_unpaused", tags=["a", "b"]),
            make_sdag("retired"),
        ],
        paused_default=True,
        now=NOW,
    )
    set_paused(session=session, dag_id="user_unpaused", is_paused=False)
    deactivate_dags(session=session, dag_ids=["retired"])

    changed_shape = make_sdag("user_unpaused", {"only": []}, tags=["b", "c"])
    eager = make_sdag("eager", tags=["x" * 150]).model_copy(update={"is_paused_upon_creation": False})
    changed = upsert_dags(
        session=session,
        sdags=[make_sdag("kept", tags=["a"]), changed_shape, make_sdag("retired"), eager, make_sdag("new")],
        paused_default=True,
        now=LATER,
    )

    # Only new DAGs and those whose serialized form changed are reported (and rewritten).
    assert changed == {"user_unpaused", "eager", "new"}
    assert _last_updated(session, "kept") == NOW
    assert _last_updated(session, "user_unpaused") == LATER
    assert get_serialized_dag(session=session, dag_id="user_unpaused") == changed_shape
    # Existing DAGs keep the pause flag; new ones take is_paused_upon_creation, else the default.
    rows, total = list_dags(session=session)
    assert total == 5
    assert {d.dag_id: (d.is_paused, d.is_active, d.last_parsed_time) for d in rows} == {
        "kept": (True, True, LATER),
        "user_unpaused": (False, True, LATER),
        "retired": (True, True, LATER),
        "eager": (False, True, LATER),
        "new": (True, True, LATER),
    }
    assert get_dag(session=session, dag_id="kept").created_at == NOW
    # Tags follow each DAG: removed, added, and cut to the column's length.
    assert _tags(session) == {"kept": {"a"}, "user_unpaused": {"b", "c"}, "eager": {"x" * dags.TAG_LENGTH}}
    assert get_dag(session=session, dag_id="user_unpaused").tags == ["b", "c"]


def test_upsert_dags_sends_the_same_statements_for_few_or_many_dags(
    session: Session, make_sdag: MakeSdag
) -> None:
    def store(count: int, now: datetime, tags: list[str]) -> int:
        batch = [make_sdag(f"d{count}_{i}", tags=tags) for i in range(count)]
        with statements(session) as seen:
            upsert_dags(session=session, sdags=batch, paused_default=False, now=now)
        return len(seen)

    # Creating, then updating (new tags, a different shape is not needed for the rows to change).
    assert store(3, NOW, ["a"]) == store(40, NOW, ["a"])
    assert store(3, LATER, ["b"]) == store(40, LATER, ["b"])
    assert store(40, LATER, ["b"]) <= 10


def test_upsert_dags_reads_ids_in_chunks_and_takes_the_last_of_duplicates(
    session: Session, make_sdag: MakeSdag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dags, "IN_LIST_SIZE", 2)
    batch = [make_sdag(f"d{i}", tags=["t"]) for i in range(5)]
    assert upsert_dags(session=session, sdags=batch, paused_default=False, now=NOW) == {
        f"d{i}" for i in range(5)
    }
    second = make_sdag("d1", {"other": []}, tags=["u"])
    changed = upsert_dags(session=session, sdags=[*batch, second], paused_default=False, now=LATER)
    assert changed == {"d1"}
    assert get_serialized_dag(session=session, dag_id="d1") == second
    assert _tags(session)["d1"] == {"u"}
    assert dags.get_dags(session=session, dag_ids=[f"d{i}" for i in range(7)]).keys() == {
        f"d{i}" for i in range(5)
    }
    assert upsert_dags(session=session, sdags=[], paused_default=False, now=LATER) == set()


def test_upsert_dags_refreshes_rows_the_session_already_holds(session: Session, make_sdag: MakeSdag) -> None:
    upsert_dags(session=session, sdags=[make_sdag("etl")], paused_default=False, now=NOW)
    held = get_dag(session=session, dag_id="etl")
    before = get_serialized_dag(session=session, dag_id="etl")
    changed = make_sdag("etl", {"report": []}, tags=["new"])
    upsert_dags(session=session, sdags=[changed], paused_default=False, now=LATER)
    # Same session, no expiry: what the webserver would read next is the new state.
    assert (held.last_parsed_time, held.tags) == (LATER, ["new"])
    assert get_serialized_dag(session=session, dag_id="etl") == changed != before


def _record(fileloc: str, content_hash: str, dag_ids: list[str], source: str = "") -> DagFileRecord:
    return DagFileRecord(fileloc, content_hash, 1.0, dag_ids, source, 0.5)


def test_upsert_dag_files_records_new_and_known_files_together(session: Session) -> None:
    upsert_dag_files(session=session, records=[_record("/dags/a.py", "h1", ["a"], "v1")], now=NOW)
    rows = upsert_dag_files(
        session=session,
        records=[
            _record("/dags/a.py", "h2", ["a2", "a1"], "v2"),
            _record("/dags/b.py", "h3", ["b"]),
            _record("/dags/b.py", "h4", ["b", "c"], "last wins"),
        ],
        now=LATER,
    )
    assert rows.keys() == {"/dags/a.py", "/dags/b.py"}
    session.expire_all()
    a = get_dag_file(session=session, fileloc="/dags/a.py")
    b = get_dag_file(session=session, fileloc="/dags/b.py")
    assert (a.content_hash, a.dag_ids, a.source, a.last_parsed_at) == ("h2", ["a1", "a2"], "v2", LATER)
    assert (b.content_hash, b.dag_ids, b.source, b.parse_duration) == ("h4", ["b", "c"], "last wins", 0.5)


def test_upsert_dag_files_sends_the_same_statements_for_few_or_many_files(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def store(count: int, content_hash: str) -> int:
        records = [_record(f"/dags/{count}_{i}.py", content_hash, [f"d{i}"]) for i in range(count)]
        with statements(session) as seen:
            upsert_dag_files(session=session, records=records, now=NOW)
        return len(seen)

    assert store(2, "h1") == store(30, "h1")
    assert store(2, "h2") == store(30, "h2") <= 2
    # Known files are found across several IN lists.
    monkeypatch.setattr(dag_files, "IN_LIST_SIZE", 4)
    store(30, "h3")
    hashes = {row.fileloc: row.content_hash for row in dag_files.list_dag_files(session=session)}
    assert len(hashes) == 32
    assert {hashes[f"/dags/30_{i}.py"] for i in range(30)} == {"h3"}
