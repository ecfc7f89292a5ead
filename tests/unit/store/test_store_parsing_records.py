"""DAG files and import errors: what the DAG processor records about each file of the DAG folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.dag_files import (
    DagFileRecord,
    delete_dag_files,
    get_dag_file,
    list_dag_files,
    upsert_dag_files,
)
from tradewind.store.import_errors import (
    clear_import_error,
    get_import_error,
    list_import_errors,
    record_import_error,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_dag_files_upsert_list_and_delete(session: Session) -> None:
    upsert_dag_files(
        session=session,
        records=[DagFileRecord("/dags/a.py", "h1", 1.5, ["a2", "a1"], "print(1)", 0.25)],
        now=NOW,
    )
    upsert_dag_files(
        session=session,
        records=[DagFileRecord("/dags/b.py", "h2", 2.0, ["b"], "", 0.1)],
        now=NOW,
    )
    later = NOW + timedelta(seconds=5)
    upsert_dag_files(
        session=session,
        records=[DagFileRecord("/dags/a.py", "h3", 3.0, ["a1"], "print(2)", 0.5)],
        now=later,
    )
    session.expire_all()
    row = get_dag_file(session=session, fileloc="/dags/a.py")
    assert (row.content_hash, row.mtime, row.dag_ids, row.source, row.parse_duration, row.last_parsed_at) == (
        "h3",
        3.0,
        ["a1"],
        "print(2)",
        0.5,
        later,
    )
    assert [f.fileloc for f in list_dag_files(session=session)] == ["/dags/a.py", "/dags/b.py"]
    assert delete_dag_files(session=session, filelocs=["/dags/a.py", "/dags/b.py", "/dags/none.py"]) == [
        "a1",
        "b",
    ]
    assert list_dag_files(session=session) == []
    assert delete_dag_files(session=session, filelocs=[]) == []
    with pytest.raises(NotFoundError, match=r"/dags/a\.py"):
        get_dag_file(session=session, fileloc="/dags/a.py")


def test_import_errors_keep_one_row_per_file(session: Session) -> None:
    record_import_error(
        session=session,
        filename="/dags/bad.py",
        lineno=3,
        message="SyntaxError: invalid syntax",
        stacktrace="Traceback ...",
        now=NOW,
    )
    later = NOW + timedelta(seconds=5)
    replaced = record_import_error(
        session=session, filename="/dags/bad.py", lineno=7, message="NameError: x", now=later
    )
    record_import_error(session=session, filename="/dags/also.py", lineno=None, message="timeout", now=NOW)
    rows, total = list_import_errors(session=session)
    assert total == 2
    assert [(r.filename, r.lineno, r.message) for r in rows] == [
        ("/dags/also.py", None, "timeout"),
        ("/dags/bad.py", 7, "NameError: x"),
    ]
    assert get_import_error(session=session, import_error_id=replaced.id).timestamp == later
    rows, total = list_import_errors(session=session, limit=1, offset=1)
    assert ([r.filename for r in rows], total) == (["/dags/bad.py"], 2)
    assert clear_import_error(session=session, filename="/dags/bad.py")
    assert not clear_import_error(session=session, filename="/dags/bad.py")
    assert list_import_errors(session=session)[1] == 1
    with pytest.raises(NotFoundError):
        get_import_error(session=session, import_error_id=replaced.id)
