"""Recording parsed files in batches: ownership of dag ids is settled file by file within a batch, as if
the files were stored one by one, while the batch is written in a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.store_view import file_records, stored_dags, stored_errors
from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.folder_state import FolderState, KnownFile
from tradewind.dag_processing.isolated_import import FileError, ParsedFile
from tradewind.dag_processing.recording import FileBatch, FileContent, FileOutcome
from tradewind.store.engine import make_session_factory, transaction

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
FOLDER = Path("/dags")


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


def _parsed(
    name: str, *dag_ids: str, error: str | None = None, tasks: tuple[str, ...] = ("t",)
) -> ParsedFile:
    ref = DagFileRef(path=FOLDER / name, relative_fileloc=name)
    sdags = [
        SerializedDag(
            dag_id=dag_id,
            fileloc=ref.fileloc,
            relative_fileloc=name,
            tasks=[SerializedTask(task_id=t, operator="EmptyOperator") for t in tasks],
        )
        for dag_id in dag_ids
    ]
    errors = [FileError(error, 3)] if error else []
    return ParsedFile(ref, sdags, errors, 0.01)


def _record(
    sessions: sessionmaker[Session], state: FolderState, files: list[ParsedFile], now: datetime = NOW
) -> list[FileOutcome]:
    """Record files in one transaction the way the DAG processor does: decide each file, let the folder
    state follow, then write."""
    with transaction(sessions) as session:
        batch = FileBatch(session=session, paused_default=False, now=now)
        batch.load(s.dag_id for p in files for s in p.dags)
        for parsed in files:
            fileloc = parsed.ref.fileloc
            previous = state.files.get(fileloc)
            content = FileContent(text=f"# {fileloc}", content_hash=f"hash-{now}-{fileloc}", mtime=1.0)
            outcome = batch.decide(
                parsed=parsed,
                content=content,
                previously_owned=previous.owned if previous else frozenset(),
                owners=state.owner,
                had_error=fileloc in state.with_errors,
            )
            state.record(
                fileloc,
                KnownFile(content.content_hash, content.mtime, outcome.owned),
                refused=outcome.refused,
                released=outcome.released,
                has_error=outcome.error is not None,
            )
        return batch.write()


@pytest.fixture
def statements(migrated_engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(migrated_engine, "before_cursor_execute", count)
    yield seen
    event.remove(migrated_engine, "before_cursor_execute", count)


def test_a_dag_id_refused_to_a_later_file_of_the_same_batch(sessions: sessionmaker[Session]) -> None:
    state = FolderState()
    first, second = _record(sessions, state, [_parsed("a.py", "shared"), _parsed("b.py", "shared", "own")])

    assert (first.owned, first.stored, first.error) == ({"shared"}, 1, None)
    assert (second.owned, second.refused, second.stored) == ({"own"}, {"shared"}, 1)
    assert second.error is not None and "already defined in a.py" in second.error.message
    assert stored_dags(sessions)["shared"].fileloc == "/dags/a.py"
    assert stored_errors(sessions)["b.py"].message == second.error.message


def test_a_dag_id_released_and_taken_within_one_batch_stays_active(sessions: sessionmaker[Session]) -> None:
    state = FolderState()
    _record(sessions, state, [_parsed("a.py", "moving", "stays")])
    later = NOW + timedelta(minutes=1)

    released, taken = _record(
        sessions, state, [_parsed("a.py", "stays"), _parsed("b.py", "moving", tasks=("x",))], later
    )

    assert (released.released, released.stored) == ({"moving"}, 0)
    assert (taken.owned, taken.stored) == ({"moving"}, 1)
    dags = stored_dags(sessions)
    assert (dags["moving"].fileloc, dags["moving"].is_active) == ("/dags/b.py", True)
    assert dags["stays"].is_active
    assert {fileloc: record[1] for fileloc, record in file_records(sessions).items()} == {
        "/dags/a.py": ["stays"],
        "/dags/b.py": ["moving"],
    }


def test_released_dags_are_deactivated_and_a_broken_file_keeps_its_dags(
    sessions: sessionmaker[Session],
) -> None:
    state = FolderState()
    _record(sessions, state, [_parsed("a.py", "gone", "kept"), _parsed("b.py", "typo")])

    clean, broken = _record(
        sessions, state, [_parsed("a.py", "kept"), _parsed("b.py", error="SyntaxError: bad")]
    )

    assert clean.released == {"gone"} and clean.error is None
    assert (broken.owned, broken.released) == ({"typo"}, set())
    dags = stored_dags(sessions)
    assert {d: dags[d].is_active for d in dags} == {"gone": False, "kept": True, "typo": True}
    assert stored_errors(sessions)["b.py"].lineno == 3

    # Fixed: its import error is cleared and it releases nothing it still defines.
    (fixed,) = _record(sessions, state, [_parsed("b.py", "typo")])
    assert (fixed.owned, fixed.error, fixed.stored) == ({"typo"}, None, 0)
    assert "b.py" not in stored_errors(sessions)


def test_a_batch_costs_the_same_statements_for_few_or_many_files(
    sessions: sessionmaker[Session], statements: list[str]
) -> None:
    def record(names: list[str], now: datetime) -> int:
        statements.clear()
        _record(sessions, state, [_parsed(name, name.removesuffix(".py")) for name in names], now)
        return len(statements)

    state = FolderState()
    few, many = [f"few_{i}.py" for i in range(2)], [f"many_{i}.py" for i in range(25)]
    assert record(few, NOW) == record(many, NOW)
    later = NOW + timedelta(minutes=1)
    assert record(few, later) == record(many, later)
