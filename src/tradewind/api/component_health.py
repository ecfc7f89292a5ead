"""Health: can the metadata database be reached, and are a scheduler and a triggerer heartbeating (from the job
table). A triggerer that never ran has no status (null), as in Airflow: deferral is optional."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.store import jobs
from tradewind.store.tables import JobModel

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"


@dataclass(slots=True)
class HealthReport:
    database: str
    database_detail: str | None
    schema_revision: str | None
    scheduler: str
    latest_scheduler_heartbeat: datetime | None
    threshold_seconds: float
    jobs: list[JobModel] = field(default_factory=list)
    triggerer: str | None = None
    latest_triggerer_heartbeat: datetime | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "metadatabase": {"status": self.database, "detail": self.database_detail},
            "scheduler": {
                "status": self.scheduler,
                "latest_scheduler_heartbeat": (
                    self.latest_scheduler_heartbeat.isoformat() if self.latest_scheduler_heartbeat else None
                ),
            },
            "triggerer": {
                "status": self.triggerer,
                "latest_triggerer_heartbeat": (
                    self.latest_triggerer_heartbeat.isoformat() if self.latest_triggerer_heartbeat else None
                ),
            },
        }


def scheduler_threshold(settings: Settings) -> float:
    """A scheduler is healthy while its latest heartbeat is younger than this."""
    return settings.scheduler.liveness_threshold


def check_health(
    factory: sessionmaker[Session], settings: Settings, *, with_jobs: bool = False
) -> HealthReport:
    threshold = scheduler_threshold(settings)
    now = utcnow()
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
            revision = session.scalar(text("SELECT version_num FROM alembic_version"))
            heartbeat = jobs.latest_heartbeat(session=session, job_type="scheduler")
            alive = jobs.alive_jobs(
                session=session, job_type="scheduler", threshold_seconds=threshold, now=now
            )
            recent = list(
                jobs.alive_jobs(session=session, job_type=None, threshold_seconds=threshold, now=now)
            )
            triggerer_beat = jobs.latest_heartbeat(session=session, job_type="triggerer")
            triggerers = jobs.alive_jobs(
                session=session, job_type="triggerer", threshold_seconds=settings.triggerer.liveness_threshold,
                now=now,
            )  # fmt: skip
    except SQLAlchemyError as exc:
        detail = str(exc).splitlines()[0][:300]
        return HealthReport(UNHEALTHY, detail, None, UNHEALTHY, None, threshold)
    return HealthReport(
        database=HEALTHY,
        database_detail=None,
        schema_revision=str(revision) if revision else None,
        scheduler=HEALTHY if alive else UNHEALTHY,
        latest_scheduler_heartbeat=heartbeat,
        threshold_seconds=threshold,
        jobs=recent if with_jobs else [],
        triggerer=None if triggerer_beat is None else (HEALTHY if triggerers else UNHEALTHY),
        latest_triggerer_heartbeat=triggerer_beat,
    )
