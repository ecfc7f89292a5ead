"""Login attempts within the rate-limit window (``login_failure`` rows), shared by every webserver process.

An attempt is counted *before* its password is checked, in one conditional INSERT, so concurrent guesses
cannot all pass the check before any of them is counted; a successful login takes its user's and address's
attempts back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from tradewind.store.tables import LoginFailureModel

#: The first key of PostgreSQL advisory locks taken here (the second is a hash of the client address).
_ADVISORY_LOCK_CLASS = 0x7457  # "tW"


def admit_attempt(
    *,
    session: Session,
    username: str,
    address: str,
    now: datetime,
    window_start: datetime,
    per_user_and_address: int,
    per_address: int,
) -> bool:
    """Count one attempt unless this user and address, or this address alone, used up the window; True if
    counted. Old attempts (of anyone) are dropped on the way."""
    username, address = username[:256], address[:100]
    session.execute(delete(LoginFailureModel).where(LoginFailureModel.failed_at <= window_start))
    if session.get_bind().dialect.name == "postgresql":
        # READ COMMITTED would let two transactions count the same rows before either inserts; attempts from
        # one address queue here instead (SQLite's BEGIN IMMEDIATE already serialises every writer).
        session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK_CLASS, func.hashtext(address))))
    recent = LoginFailureModel.failed_at > window_start
    from_address = LoginFailureModel.address == address
    pair_count = (
        select(func.count())
        .where(LoginFailureModel.username == username, from_address, recent)
        .scalar_subquery()
    )
    address_count = select(func.count()).where(from_address, recent).scalar_subquery()
    row = select(
        literal(username, LoginFailureModel.username.type),
        literal(address, LoginFailureModel.address.type),
        literal(now, LoginFailureModel.failed_at.type),
    ).where(pair_count < per_user_and_address, address_count < per_address)
    # RETURNING, not rowcount: psycopg reports a row count for INSERT ... SELECT even when none was inserted.
    stmt = (
        insert(LoginFailureModel)
        .from_select(["username", "address", "failed_at"], row)
        .returning(LoginFailureModel.id)
    )
    return session.execute(stmt).first() is not None


def oldest_attempt(
    *, session: Session, address: str, window_start: datetime, username: str | None = None
) -> datetime | None:
    """When the oldest attempt in the window from this address (and user, if given) was made."""
    conditions = [LoginFailureModel.address == address[:100], LoginFailureModel.failed_at > window_start]
    if username is not None:
        conditions.append(LoginFailureModel.username == username[:256])
    oldest: datetime | None = session.scalar(select(func.min(LoginFailureModel.failed_at)).where(*conditions))
    return oldest


def attempts_since(
    *, session: Session, address: str, window_start: datetime, username: str | None = None
) -> int:
    conditions = [LoginFailureModel.address == address[:100], LoginFailureModel.failed_at > window_start]
    if username is not None:
        conditions.append(LoginFailureModel.username == username[:256])
    return int(session.scalar(select(func.count()).select_from(LoginFailureModel).where(*conditions)) or 0)


def clear_failures(*, session: Session, username: str, address: str) -> None:
    session.execute(
        delete(LoginFailureModel).where(
            LoginFailureModel.username == username[:256], LoginFailureModel.address == address[:100]
        )
    )
