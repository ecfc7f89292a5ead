"""Connections in the metadata database, their password and extra encrypted with ``FieldCipher``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NotFoundError, ParamValidationError
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.tables import ID_LEN, ConnectionModel


def _row(session: Session, conn_id: str) -> ConnectionModel | None:
    return session.scalar(select(ConnectionModel).where(ConnectionModel.conn_id == conn_id))


def get_connection(*, session: Session, conn_id: str, cipher: FieldCipher) -> Connection:
    """The connection, decrypted; NotFoundError if there is none."""
    row = _row(session, conn_id)
    if row is None:
        raise NotFoundError(f"connection {conn_id!r} is not defined", kind="connection", ident=conn_id)
    return _decrypted(row, cipher)


def set_connection(*, session: Session, connection: Connection, cipher: FieldCipher) -> ConnectionModel:
    """Create or replace the connection named by ``connection.conn_id`` (every field is replaced)."""
    conn_id = connection.conn_id or ""
    if not conn_id or len(conn_id) > ID_LEN:
        raise ParamValidationError(
            f"connection id must be 1 to {ID_LEN} characters, got {len(conn_id)}", param="conn_id"
        )
    if not connection.conn_type:
        raise ParamValidationError(f"connection {conn_id!r} has no conn_type", param="conn_type")
    # Encrypt first: without a key nothing reaches the session, not even a half-made row.
    password = (
        cipher.encrypt(connection.password, conn_id=conn_id, field="password")
        if connection.password
        else None
    )
    extra = cipher.encrypt(connection.extra, conn_id=conn_id, field="extra") if connection.extra else None
    row = _row(session, conn_id)
    if row is None:
        row = ConnectionModel(conn_id=conn_id)
        session.add(row)
    row.conn_type = connection.conn_type
    row.description = connection.description
    row.host = connection.host
    row.schema = connection.schema
    row.login = connection.login
    row.port = connection.port
    row.password, row.is_encrypted = password, password is not None
    row.extra, row.is_extra_encrypted = extra, extra is not None
    session.flush()
    return row


def delete_connection(*, session: Session, conn_id: str) -> None:
    row = _row(session, conn_id)
    if row is None:
        raise NotFoundError(f"connection {conn_id!r} is not defined", kind="connection", ident=conn_id)
    session.delete(row)
    session.flush()


#: The columns a listing may be ordered by.
ORDER_COLUMNS = ("conn_id", "conn_type", "description", "host", "schema", "login", "port", "id")


def list_connections(
    *,
    session: Session,
    cipher: FieldCipher,
    limit: int | None = None,
    offset: int = 0,
    order_by: str = "conn_id",
    descending: bool = False,
) -> tuple[list[Connection], int]:
    """Connections ordered by ``order_by`` (one of ``ORDER_COLUMNS``, then by id), decrypted, and their total."""
    if order_by not in ORDER_COLUMNS:
        raise ParamValidationError(
            f"connections cannot be ordered by {order_by!r}; one of {list(ORDER_COLUMNS)}", param="order_by"
        )
    total = session.scalar(select(func.count()).select_from(ConnectionModel)) or 0
    column = getattr(ConnectionModel, order_by)
    stmt = (
        select(ConnectionModel)
        .order_by(column.desc() if descending else column.asc(), ConnectionModel.conn_id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_decrypted(row, cipher) for row in session.scalars(stmt)], total


def rotate_fernet_key(*, session: Session, cipher: FieldCipher) -> Sequence[str]:
    """Re-encrypt every stored password and extra with the first key; the ids of the rows rewritten."""
    rotated = []
    for row in session.scalars(select(ConnectionModel).order_by(ConnectionModel.conn_id)):
        if row.password is not None and row.is_encrypted:
            row.password = cipher.rotate(row.password, conn_id=row.conn_id, field="password")
        if row.extra is not None and row.is_extra_encrypted:
            row.extra = cipher.rotate(row.extra, conn_id=row.conn_id, field="extra")
        if row.is_encrypted or row.is_extra_encrypted:
            rotated.append(row.conn_id)
    session.flush()
    return rotated


def _decrypted(row: ConnectionModel, cipher: FieldCipher) -> Connection:
    def field(value: str | None, encrypted: bool, name: str) -> str | None:
        if value is None or not encrypted:
            return value
        return cipher.decrypt(value, conn_id=row.conn_id, field=name)

    return Connection(
        conn_id=row.conn_id, conn_type=row.conn_type, description=row.description, host=row.host,
        login=row.login, password=field(row.password, row.is_encrypted, "password"), schema=row.schema,
        port=row.port, extra=field(row.extra, row.is_extra_encrypted, "extra"),
    )  # fmt: skip
