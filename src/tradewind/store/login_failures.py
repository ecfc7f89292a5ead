"""Failed logins within the rate-limit window (``login_failure`` rows), shared by every webserver process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tradewind.store.tables import LoginFailureModel


def record_failure(*, session: Session, username: str, address: str, now: datetime, window_start: datetime) -> None:
    """Count one failure; failures older than the window (of anyone) are dropped on the way."""
    session.execute(delete(LoginFailureModel).where(LoginFailureModel.failed_at <= window_start))
    session.add(LoginFailureModel(username=username[:256], address=address[:100], failed_at=now))
    session.flush()


def failures_since(
    *, session: Session, username: str, address: str, window_start: datetime
) -> tuple[int, datetime | None]:
    """How many failures this user and address had after ``window_start``, and when the oldest was."""
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailureModel.failed_at)).where(
            LoginFailureModel.username == username[:256],
            LoginFailureModel.address == address[:100],
            LoginFailureModel.failed_at > window_start,
        )
    ).one()
    return int(count), oldest


def clear_failures(*, session: Session, username: str, address: str) -> None:
    session.execute(
        delete(LoginFailureModel).where(
            LoginFailureModel.username == username[:256], LoginFailureModel.address == address[:100]
        )
    )
