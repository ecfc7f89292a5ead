"""Accounts from the UI and the command line, and at first start: users, passwords, API tokens, the first admin."""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tradewind.actions.passwords import (
    MIN_PASSWORD_LENGTH,
    generate_password,
    hash_password,
    new_api_token,
)
from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import api_tokens, users
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction
from tradewind.store.tables import ApiTokenModel, UserModel

ADMIN_USER_ENV = "TRADEWIND_ADMIN_USER"
ADMIN_PASSWORD_ENV = "TRADEWIND_ADMIN_PASSWORD"
DEFAULT_ADMIN = "admin"


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ParamValidationError(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", param="password"
        )


def create_user(
    factory: sessionmaker[Session], *, username: str, password: str, role: str, actor: str | None = None
) -> UserModel:
    """``actor``: who did it, for the audit log (None from the command line)."""
    check_password(password)
    with transaction(factory) as session:
        user = users.create_user(
            session=session, username=username, password_hash=hash_password(password), role=role
        )
        record_audit(
            session=session,
            event="user_create",
            owner=actor,
            extra={"username": username, "role": role},
            now=utcnow(),
        )
        return user


def reset_password(factory: sessionmaker[Session], *, username: str, password: str) -> None:
    """Set a new password; every session of the user ends (their cookies carry the old hash's fingerprint)."""
    check_password(password)
    with transaction(factory) as session:
        users.set_password_hash(session=session, username=username, password_hash=hash_password(password))
        record_audit(
            session=session,
            event="user_reset_password",
            owner=None,
            extra={"username": username},
            now=utcnow(),
        )


def delete_user(factory: sessionmaker[Session], *, username: str, actor: str | None = None) -> None:
    with transaction(factory) as session:
        users.delete_user(session=session, username=username)
        record_audit(
            session=session, event="user_delete", owner=actor, extra={"username": username}, now=utcnow()
        )


def set_role(factory: sessionmaker[Session], *, username: str, role: str, actor: str | None = None) -> None:
    with transaction(factory) as session:
        before = users.get_user(session=session, username=username).role
        users.set_role(session=session, username=username, role=role)
        record_audit(
            session=session,
            event="user_set_role",
            owner=actor,
            extra={"username": username, "role": role, "previous_role": before},
            now=utcnow(),
        )


def revoke_token(factory: sessionmaker[Session], *, token_id: int, actor: str | None = None) -> bool:
    """Delete a token so requests carrying it are refused at once; False when there is no such token."""
    with transaction(factory) as session:
        row = session.get(ApiTokenModel, token_id)
        if row is None:
            return False
        owner = users.get_user_by_id(session=session, user_id=row.user_id)
        name = row.name
        api_tokens.delete_token(session=session, token_id=token_id)
        record_audit(
            session=session,
            event="token_revoke",
            owner=actor,
            extra={"id": token_id, "name": name, "username": owner.username if owner else None},
            now=utcnow(),
        )
    return True


def create_token(
    factory: sessionmaker[Session],
    *,
    username: str,
    name: str = "",
    expires_days: float | None = None,
    actor: str | None = None,
) -> str:
    """A new bearer token for the user; only its hash is stored, so this is the one time it is seen."""
    if expires_days is not None and expires_days <= 0:
        raise ParamValidationError("--expires-days must be more than 0", param="expires_days")
    token, token_hash = new_api_token()
    expires = utcnow() + timedelta(days=expires_days) if expires_days is not None else None
    with transaction(factory) as session:
        user = users.get_user(session=session, username=username)
        api_tokens.create_token(
            session=session, user_id=user.id, token_hash=token_hash, name=name, expires_at=expires
        )
        record_audit(
            session=session,
            event="token_create",
            owner=actor or username,
            extra={"name": name, "username": username, "expires_at": str(expires)},
            now=utcnow(),
        )
    return token


def ensure_admin_user(settings: Settings, session_factory: sessionmaker[Session]) -> str | None:
    """Create the first admin when there are no users yet: TRADEWIND_ADMIN_USER (default "admin") with
    TRADEWIND_ADMIN_PASSWORD, or with a generated password, which is returned so it can be shown once.
    Returns None when users exist already or the password came from the environment."""
    del settings  # the environment names the admin; settings stay in the signature for later sources
    with session_factory() as session:
        if users.count_users(session=session) > 0:
            return None
    username = os.environ.get(ADMIN_USER_ENV) or DEFAULT_ADMIN
    given = os.environ.get(ADMIN_PASSWORD_ENV)
    password = given or generate_password()
    create_user(session_factory, username=username, password=password, role="admin")
    return None if given else password
