"""Connections in the database: password and extra encrypted at rest with the Fernet key, refusal without
a key, errors naming the connection and field (never the secret), and key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConfigError, ConnectionFieldError, NotFoundError
from tradewind.store.connections import (
    delete_connection,
    get_connection,
    list_connections,
    rotate_fernet_key,
    set_connection,
)
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.tables import ConnectionModel

SECRET = "s3cret-pa55word"
TOKEN = "api-token-123456"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _conn(conn_id: str = "db") -> Connection:
    return Connection(
        conn_id, conn_type="postgres", host="h", login="u", password=SECRET, port=5432, schema="s",
        extra={"token": TOKEN}, description="the db",
    )  # fmt: skip


def _raw(session: Session, conn_id: str) -> ConnectionModel:
    return session.scalars(select(ConnectionModel).where(ConnectionModel.conn_id == conn_id)).one()


def test_round_trip_encrypted_at_rest(session: Session) -> None:
    cipher = FieldCipher(OLD)
    set_connection(session=session, connection=_conn(), cipher=cipher)
    row = _raw(session, "db")
    assert row.is_encrypted and row.is_extra_encrypted
    assert SECRET not in (row.password or "") and TOKEN not in (row.extra or "")
    assert get_connection(session=session, conn_id="db", cipher=cipher) == _conn()
    set_connection(session=session, connection=Connection("db", conn_type="http", host="h2"), cipher=cipher)
    replaced = get_connection(session=session, conn_id="db", cipher=cipher)
    assert (replaced.conn_type, replaced.password, replaced.extra) == ("http", None, None)
    set_connection(session=session, connection=_conn("other"), cipher=cipher)
    listed, total = list_connections(session=session, cipher=cipher)
    assert ([c.conn_id for c in listed], total) == (["db", "other"], 2)
    delete_connection(session=session, conn_id="db")
    with pytest.raises(NotFoundError, match="connection 'db' is not defined"):
        get_connection(session=session, conn_id="db", cipher=cipher)


def test_without_a_key_a_secret_is_refused_and_says_how_to_set_one(session: Session) -> None:
    with pytest.raises(ConfigError) as info:
        set_connection(session=session, connection=_conn(), cipher=FieldCipher(None))
    message = str(info.value)
    assert info.value.key == "core.fernet_key"
    assert "connection 'db'" in message and "password" in message and "in clear" in message
    assert "TRADEWIND__CORE__FERNET_KEY" in message and "Fernet.generate_key()" in message
    assert SECRET not in message
    assert session.scalars(select(ConnectionModel)).all() == []
    # A connection without secrets needs no key.
    set_connection(
        session=session, connection=Connection("plain", conn_type="http", host="h"), cipher=FieldCipher(None)
    )
    assert get_connection(session=session, conn_id="plain", cipher=FieldCipher(None)).host == "h"


def test_a_wrong_key_names_the_connection_and_field(session: Session) -> None:
    set_connection(session=session, connection=_conn(), cipher=FieldCipher(OLD))
    with pytest.raises(ConnectionFieldError) as info:
        get_connection(session=session, conn_id="db", cipher=FieldCipher(NEW))
    assert (info.value.conn_id, info.value.field) == ("db", "password")
    assert "cannot be decrypted" in str(info.value) and SECRET not in str(info.value)
    with pytest.raises(ConnectionFieldError, match="no Fernet key is set"):
        get_connection(session=session, conn_id="db", cipher=FieldCipher(None))


def test_a_bad_key_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a Fernet key") as info:
        FieldCipher("not-a-key")
    assert info.value.key == "core.fernet_key" and "not-a-key" not in str(info.value)


def test_rotation_re_encrypts_with_the_first_key(session: Session) -> None:
    set_connection(session=session, connection=_conn(), cipher=FieldCipher(OLD))
    set_connection(session=session, connection=Connection("plain", conn_type="http"), cipher=FieldCipher(OLD))
    both = FieldCipher(f"{NEW},{OLD}")
    assert get_connection(session=session, conn_id="db", cipher=both) == _conn()  # old key still decrypts
    assert list(rotate_fernet_key(session=session, cipher=both)) == ["db"]
    assert get_connection(session=session, conn_id="db", cipher=FieldCipher(NEW)) == _conn()
    with pytest.raises(ConnectionFieldError):
        get_connection(session=session, conn_id="db", cipher=FieldCipher(OLD))
