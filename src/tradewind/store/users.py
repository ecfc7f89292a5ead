"""Users of the web UI and REST API: rows of ``tw_user`` (the password hash is made by the caller)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.core.clock import utcnow
from tradewind.sdk.errors import ConflictError, NotFoundError, ParamValidationError
from tradewind.store import web_sessions
from tradewind.store.tables import UserModel

ROLES: tuple[str, ...] = ("admin", "op", "viewer")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ParamValidationError(f"role must be one of {', '.join(ROLES)}, got {role!r}", param="role")


def create_user(*, session: Session, username: str, password_hash: str, role: str) -> UserModel:
    if not username.strip():
        raise ParamValidationError("username must not be empty", param="username")
    _check_role(role)
    if find_user(session=session, username=username) is not None:
        raise ConflictError(f"user {username!r} already exists")
    user = UserModel(username=username, password_hash=password_hash, role=role, active=True)
    session.add(user)
    session.flush()
    return user


def find_user(*, session: Session, username: str) -> UserModel | None:
    return session.scalars(select(UserModel).where(UserModel.username == username)).one_or_none()


def get_user(*, session: Session, username: str) -> UserModel:
    user = find_user(session=session, username=username)
    if user is None:
        raise NotFoundError(f"user {username!r} does not exist", kind="user", ident=username)
    return user


def get_user_by_id(*, session: Session, user_id: int) -> UserModel | None:
    return session.get(UserModel, user_id)


def list_users(*, session: Session) -> list[UserModel]:
    return list(session.scalars(select(UserModel).order_by(UserModel.username)))


def count_users(*, session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(UserModel)) or 0)


def delete_user(*, session: Session, username: str) -> None:
    session.delete(get_user(session=session, username=username))
    session.flush()


def set_password_hash(*, session: Session, username: str, password_hash: str) -> UserModel:
    """A new password also logs the user out of every browser."""
    user = get_user(session=session, username=username)
    user.password_hash = password_hash
    web_sessions.end_user_sessions(session=session, user_id=user.id)
    session.flush()
    return user


def set_role(*, session: Session, username: str, role: str) -> UserModel:
    """A new role applies at once: sessions and tokens resolve the user's role on every request."""
    _check_role(role)
    user = get_user(session=session, username=username)
    user.role = role
    session.flush()
    return user


def set_ui_timezone(*, session: Session, user_id: int, zone_name: str | None) -> None:
    """The zone the UI shows this user's times in; None follows the webserver's default."""
    user = session.get(UserModel, user_id)
    if user is None:
        raise NotFoundError(f"user id {user_id} does not exist", kind="user", ident=str(user_id))
    user.ui_timezone = zone_name
    session.flush()


def record_login(*, session: Session, user_id: int, at: datetime | None = None) -> None:
    user = session.get(UserModel, user_id)
    if user is not None:
        user.last_login = at or utcnow()
