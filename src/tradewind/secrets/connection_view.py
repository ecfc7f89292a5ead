"""What of a connection may leave the server: never the password, ``extra`` with its secret-looking keys masked;
and the rule every connection id given to the CLI, the REST API or the UI must follow."""

from __future__ import annotations

import json
import re
from typing import Any

from tradewind.core.redaction import MASK, redact
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ParamValidationError
from tradewind.store.tables import ID_LEN

#: Airflow's rule for a connection id: letters, digits, ``_``, ``.`` and ``-``.
CONN_ID_PATTERN = r"^[\w.-]+$"
_CONN_ID = re.compile(r"[\w.-]+")


def check_conn_id(conn_id: str, *, param: str = "conn_id") -> str:
    """``conn_id`` unchanged, or ParamValidationError naming ``param`` when it breaks the rule."""
    if not conn_id or len(conn_id) > ID_LEN or not _CONN_ID.fullmatch(conn_id):
        raise ParamValidationError(
            f"connection id {conn_id[:60]!r} must be 1 to {ID_LEN} letters, digits, '_', '.' or '-'",
            param=param,
        )
    return conn_id


def masked_extra(connection: Connection) -> dict[str, Any]:
    """``extra`` decoded, every value under a secret-looking key (at any depth) replaced by ``***``."""
    masked: dict[str, Any] = redact(connection.extra_dejson)
    return masked


def masked_extra_text(connection: Connection) -> str | None:
    return json.dumps(masked_extra(connection)) if connection.extra else None


def masked_fields(connection: Connection) -> dict[str, Any]:
    """Every field, the password as ``***`` (or None when there is none) and ``extra`` masked as a dict."""
    return {
        "conn_id": connection.conn_id,
        "conn_type": connection.conn_type,
        "description": connection.description,
        "host": connection.host,
        "schema": connection.schema,
        "login": connection.login,
        "password": MASK if connection.password else None,
        "port": connection.port,
        "extra": masked_extra(connection),
    }


def restore_masked(submitted: Any, stored: Any) -> Any:
    """``submitted`` with every ``***`` that stands where ``stored`` holds a value put back to that value: a
    masked extra sent back unchanged from a form keeps its secrets."""
    if submitted == MASK and stored not in (None, ""):
        return stored
    if isinstance(submitted, dict) and isinstance(stored, dict):
        return {key: restore_masked(value, stored.get(key)) for key, value in submitted.items()}
    return submitted
