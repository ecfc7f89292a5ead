"""Changes to stored connections, each with its audit entry: who, which connection, which fields; never a value.

The CLI, the REST API and the UI all change connections through here, so every change is audited the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.sdk.connection import FIELDS, Connection
from tradewind.sdk.errors import ConflictError, NotFoundError
from tradewind.store import connections
from tradewind.store.audit import record_audit
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.tables import ConnectionModel

CREATE, UPDATE, DELETE = "connection_create", "connection_update", "connection_delete"


def exists(*, session: Session, conn_id: str) -> bool:
    return session.scalar(select(ConnectionModel.id).where(ConnectionModel.conn_id == conn_id)) is not None


def create(
    *,
    session: Session,
    connection: Connection,
    cipher: FieldCipher,
    owner: str | None,
    now: datetime,
    via: str,
) -> None:
    """Store a new connection; ConflictError when its id is taken."""
    conn_id = connection.conn_id or ""
    if conn_id and exists(session=session, conn_id=conn_id):
        raise ConflictError(f"connection {conn_id!r} already exists")
    connections.set_connection(session=session, connection=connection, cipher=cipher)
    _audit(session, CREATE, connection, _set_fields(connection), owner, now, via)


def replace(
    *,
    session: Session,
    connection: Connection,
    cipher: FieldCipher,
    owner: str | None,
    now: datetime,
    via: str,
) -> None:
    """Store ``connection`` over the one with its id (which must exist): every field is replaced."""
    conn_id = connection.conn_id or ""
    current = connections.get_connection(session=session, conn_id=conn_id, cipher=cipher)
    changed = [f for f in FIELDS if f != "conn_id" and getattr(current, f) != getattr(connection, f)]
    connections.set_connection(session=session, connection=connection, cipher=cipher)
    _audit(session, UPDATE, connection, changed, owner, now, via)


def delete(*, session: Session, conn_id: str, owner: str | None, now: datetime, via: str) -> None:
    row = session.scalar(select(ConnectionModel).where(ConnectionModel.conn_id == conn_id))
    if row is None:
        raise NotFoundError(f"connection {conn_id!r} is not defined", kind="connection", ident=conn_id)
    conn_type = row.conn_type
    connections.delete_connection(session=session, conn_id=conn_id)
    record_audit(
        session=session,
        event=DELETE,
        owner=owner,
        extra={"conn_id": conn_id, "conn_type": conn_type, "via": via},
        now=now,
    )


def _set_fields(connection: Connection) -> list[str]:
    return [f for f in FIELDS if f != "conn_id" and getattr(connection, f) not in (None, "")]


def _audit(
    session: Session,
    event: str,
    connection: Connection,
    fields: list[str],
    owner: str | None,
    now: datetime,
    via: str,
) -> None:
    record_audit(
        session=session,
        event=event,
        owner=owner,
        extra={
            "conn_id": connection.conn_id,
            "conn_type": connection.conn_type,
            "fields": fields,
            "via": via,
        },
        now=now,
    )
