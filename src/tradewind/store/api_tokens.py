"""API tokens: rows of ``api_token``, each holding only a hash of the bearer token shown once to its owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.store.tables import ApiTokenModel, UserModel


def create_token(
    *, session: Session, user_id: int, token_hash: str, name: str = "", expires_at: datetime | None = None
) -> ApiTokenModel:
    token = ApiTokenModel(user_id=user_id, token_hash=token_hash, name=name, expires_at=expires_at)
    session.add(token)
    session.flush()
    return token


def find_by_hash(*, session: Session, token_hash: str) -> tuple[ApiTokenModel, UserModel] | None:
    """The token with this hash and its user, or None. Expiry is the caller's to judge."""
    row = session.execute(
        select(ApiTokenModel, UserModel)
        .join(UserModel, UserModel.id == ApiTokenModel.user_id)
        .where(ApiTokenModel.token_hash == token_hash)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def list_tokens(*, session: Session, user_id: int | None = None) -> list[ApiTokenModel]:
    stmt = select(ApiTokenModel).order_by(ApiTokenModel.id)
    if user_id is not None:
        stmt = stmt.where(ApiTokenModel.user_id == user_id)
    return list(session.scalars(stmt))


def touch(*, session: Session, token_id: int, at: datetime) -> None:
    token = session.get(ApiTokenModel, token_id)
    if token is not None:
        token.last_used_at = at


def delete_token(*, session: Session, token_id: int) -> bool:
    token = session.get(ApiTokenModel, token_id)
    if token is None:
        return False
    session.delete(token)
    session.flush()
    return True
