"""Audit log (with secret masking) and jobs (registration, heartbeats, alive and dead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.audit import list_audit, record_audit
from tradewind.store.jobs import alive_jobs, end_job, job_heartbeat, latest_heartbeat, register_job

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_audit_records_and_lists_newest_first(session: Session) -> None:
    record_audit(session=session, event="trigger", owner="ada", dag_id="etl", run_id="r1", now=NOW)
    record_audit(
        session=session,
        event="variable.set",
        owner="bob",
        extra={"variable": "db", "password": "pw"},
        now=NOW + timedelta(seconds=1),
    )
    record_audit(session=session, event="pause", owner="ada", dag_id="etl", now=NOW + timedelta(seconds=2))
    rows, total = list_audit(session=session)
    assert ([r.event for r in rows], total) == (["pause", "variable.set", "trigger"], 3)
    assert rows[1].extra == {"variable": "db", "password": "***"}
    rows, total = list_audit(session=session, dag_id="etl", limit=1, offset=1)
    assert ([r.event for r in rows], total) == (["trigger"], 2)
    assert rows[0].run_id == "r1"
    assert list_audit(session=session, event="pause")[1] == 1


def test_jobs_heartbeat_alive_and_dead(session: Session) -> None:
    assert latest_heartbeat(session=session, job_type="scheduler") is None
    register_job(session=session, job_type="scheduler", hostname="h1", pid=10, executor="local", now=NOW)
    second = register_job(
        session=session, job_type="scheduler", hostname="h2", pid=11, executor="local", now=NOW
    )
    register_job(session=session, job_type="worker", hostname="h3", pid=12, executor=None, now=NOW)
    later = NOW + timedelta(seconds=60)
    job_heartbeat(session=session, job_id=second, now=later)
    assert latest_heartbeat(session=session, job_type="scheduler") == later

    def ids(jobs: object) -> list[int]:
        return [j.id for j in jobs]  # type: ignore[attr-defined]

    assert ids(alive_jobs(session=session, job_type="scheduler", threshold_seconds=30, now=later)) == [second]
    assert ids(alive_jobs(session=session, job_type=None, threshold_seconds=30, now=later)) == [second]
    end_job(session=session, job_id=second, now=later, state="failed")
    assert ids(alive_jobs(session=session, job_type="scheduler", threshold_seconds=30, now=later)) == []
    with pytest.raises(NotFoundError):
        job_heartbeat(session=session, job_id=99999, now=later)
