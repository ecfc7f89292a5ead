"""Connections as the REST API and the UI read and change them: decrypted with the app's Fernet key, changed
through ``store.connection_changes`` (so each change is audited), and tested through their hook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tradewind.api.auth.authentication import Principal
from tradewind.api.context import AppContext
from tradewind.core.clock import utcnow
from tradewind.core.redaction import MASK
from tradewind.sdk.connection import FIELDS, Connection
from tradewind.sdk.errors import NotFoundError, PermissionDeniedError
from tradewind.secrets.connection_check import ConnectionCheck, check_connection
from tradewind.secrets.connection_view import check_conn_id, restore_masked
from tradewind.store import connection_changes, connections
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher

#: The fields a change may name (the id never changes).
CHANGEABLE = tuple(f for f in FIELDS if f != "conn_id")


def cipher(ctx: AppContext) -> FieldCipher:
    return FieldCipher.from_settings(ctx.settings)


def get(ctx: AppContext, session: Session, conn_id: str) -> Connection:
    return connections.get_connection(session=session, conn_id=conn_id, cipher=cipher(ctx))


def build(conn_id: str, fields: Mapping[str, Any], *, param: str = "connection_id") -> Connection:
    """A connection from form or body fields (``extra`` as JSON text); errors name the connection and field."""
    check_conn_id(conn_id, param=param)
    values = {f: fields.get(f) for f in CHANGEABLE}
    return Connection(conn_id=conn_id, **values)


def with_stored_secrets(connection: Connection, stored: Connection | None) -> Connection:
    """``connection`` with a ``***`` password or extra value (sent back as it was shown) put back to the
    stored one's."""
    if stored is None:
        return connection
    if connection.password == MASK:
        connection.password = stored.password
    if connection.extra:
        restored = restore_masked(connection.extra_dejson, stored.extra_dejson)
        connection.extra = Connection(extra=restored).extra
    return connection


def create(ctx: AppContext, principal: Principal, connection: Connection, *, via: str) -> Connection:
    with transaction(ctx.write_factory) as session:
        connection_changes.create(
            session=session, connection=connection, cipher=cipher(ctx), owner=principal.username, now=utcnow(),
            via=via,
        )  # fmt: skip
    return connection


def update(
    ctx: AppContext, principal: Principal, conn_id: str, changes: Mapping[str, Any], *, via: str
) -> Connection:
    """Change the named fields of a stored connection, the others kept (a ``***`` value keeps the secret)."""
    field_cipher = cipher(ctx)
    with transaction(ctx.write_factory) as session:
        stored = connections.get_connection(session=session, conn_id=conn_id, cipher=field_cipher)
        fields = {f: getattr(stored, f) for f in CHANGEABLE}
        fields.update({f: v for f, v in changes.items() if f in CHANGEABLE})
        connection = with_stored_secrets(build(conn_id, fields), stored)
        connection_changes.replace(
            session=session, connection=connection, cipher=field_cipher, owner=principal.username, now=utcnow(),
            via=via,
        )  # fmt: skip
    return connection


def delete(ctx: AppContext, principal: Principal, conn_id: str, *, via: str) -> None:
    with transaction(ctx.write_factory) as session:
        connection_changes.delete(
            session=session, conn_id=conn_id, owner=principal.username, now=utcnow(), via=via
        )


def test(ctx: AppContext, session: Session, connection: Connection) -> ConnectionCheck:
    """Test ``connection``; when one with its id is stored, its masked fields are taken from it. Refused
    unless ``[core] test_connection`` is enabled."""
    if ctx.settings.core.test_connection != "enabled":
        raise PermissionDeniedError(
            "testing connections from the webserver is disabled: set [core] test_connection = \"enabled\" "
            "(TRADEWIND__CORE__TEST_CONNECTION=enabled) to allow it; `tradewind connections test` always works"
        )
    try:
        stored: Connection | None = get(ctx, session, connection.conn_id or "")
    except NotFoundError:
        stored = None
    return check_connection(with_stored_secrets(connection, stored))
