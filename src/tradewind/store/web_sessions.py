"""Web sessions: rows of ``web_session``, one per login, each holding only a hash of the session key the
browser's signed cookie carries. Logging out deletes the row, so a copy of the cookie stops working too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradewind.store.tables import UserModel, WebSessionModel


def create_session(
    *, session: Session, user_id: int, session_hash: str, now: datetime, expires_at: datetime, address: str
) -> WebSessionModel:
    """Record a login; sessions of any user that expired before ``now`` are dropped on the way."""
    session.execute(delete(WebSessionModel).where(WebSessionModel.expires_at <= now))
    row = WebSessionModel(
        user_id=user_id, session_hash=session_hash, created_at=now, expires_at=expires_at, address=address[:100]
    )
    session.add(row)
    session.flush()
    return row


def find_live_session(
    *, session: Session, session_hash: str, now: datetime
) -> tuple[WebSessionModel, UserModel] | None:
    """The unexpired session with this hash and its user, or None."""
    row = session.execute(
        select(WebSessionModel, UserModel)
        .join(UserModel, UserModel.id == WebSessionModel.user_id)
        .where(WebSessionModel.session_hash == session_hash, WebSessionModel.expires_at > now)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def end_session(*, session: Session, session_hash: str) -> bool:
    """Log one session out; False when it was gone already."""
    result = session.execute(delete(WebSessionModel).where(WebSessionModel.session_hash == session_hash))
    return result.rowcount == 1  # type: ignore[attr-defined]


def end_user_sessions(*, session: Session, user_id: int) -> int:
    """Log a user out everywhere (password changed, user deactivated or asked for it); returns how many."""
    result = session.execute(delete(WebSessionModel).where(WebSessionModel.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
