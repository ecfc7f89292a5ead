"""Jobs: long-running processes (scheduler, DAG processor, webserver, worker) and their heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.tables import JobModel

RUNNING = "running"


def register_job(
    *,
    session: Session,
    job_type: str,
    hostname: str | None,
    pid: int | None,
    executor: str | None,
    now: datetime,
) -> int:
    """Record a process that starts; returns its job id."""
    job = JobModel(
        job_type=job_type,
        state=RUNNING,
        hostname=hostname,
        pid=pid,
        executor=executor,
        start_date=now,
        latest_heartbeat=now,
    )
    session.add(job)
    session.flush()
    return job.id


def _get(session: Session, job_id: int) -> JobModel:
    job = session.get(JobModel, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist", kind="job", ident=str(job_id))
    return job


def job_heartbeat(*, session: Session, job_id: int, now: datetime) -> None:
    _get(session, job_id).latest_heartbeat = now
    session.flush()


def end_job(*, session: Session, job_id: int, now: datetime, state: str = "success") -> None:
    job = _get(session, job_id)
    job.state = state
    job.end_date = now
    job.latest_heartbeat = now
    session.flush()


def latest_heartbeat(*, session: Session, job_type: str) -> datetime | None:
    """The newest heartbeat of any job of this type (None if there never was one)."""
    return session.scalar(select(func.max(JobModel.latest_heartbeat)).where(JobModel.job_type == job_type))


def alive_jobs(
    *, session: Session, job_type: str | None, threshold_seconds: float, now: datetime
) -> Sequence[JobModel]:
    """Running jobs that heartbeat within ``threshold_seconds`` (all types when ``job_type`` is None)."""
    limit = now - timedelta(seconds=threshold_seconds)
    stmt = select(JobModel).where(JobModel.state == RUNNING, JobModel.latest_heartbeat >= limit)
    if job_type is not None:
        stmt = stmt.where(JobModel.job_type == job_type)
    return session.scalars(stmt.order_by(JobModel.id)).all()
