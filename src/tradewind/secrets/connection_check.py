"""Testing a connection: build the hook its ``conn_type`` names and call ``hook.test_connection()``, as the
CLI's ``connections test``, the REST API's ``POST /connections/test`` and the UI's Test button do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tradewind.core.redaction import MASK, is_sensitive_name
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.hook_registry import hook_class_for, known_conn_types
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    ok: bool
    message: str


def check_connection(connection: Connection) -> ConnectionCheck:
    """The hook's verdict on ``connection`` (which need not be stored: the hook reads this one by its id).
    Never raises for a failing hook; the message names the connection, never a secret."""
    conn_id = connection.conn_id or ""
    try:
        hook_class = hook_class_for(connection.conn_type, conn_id=conn_id)
    except NotFoundError:
        known = ", ".join(known_conn_types()) or "none"
        return ConnectionCheck(
            False, f"no hook is known for conn_type {connection.conn_type!r} (known: {known})"
        )
    except ImportError as exc:  # a provider whose library is not installed
        return ConnectionCheck(
            False, f"the hook for conn_type {connection.conn_type!r} cannot be imported: {exc}"
        )
    if not callable(getattr(hook_class, "test_connection", None)):
        return ConnectionCheck(False, f"hook {hook_class.__name__} has no test_connection()")
    # The hook reads the connection by id, and an environment variable of the same id would come first: the
    # connection under test gets an id of its own for the call, and its messages get the real one back.
    probe_id = f"tradewind_connection_test_{uuid.uuid4().hex}"
    runtime = InMemoryRuntime()
    runtime.connections[probe_id] = {**connection.to_dict(validate=False), "conn_id": probe_id}

    def told(text: str) -> str:
        return _without_secrets(text.replace(probe_id, conn_id), connection)

    try:
        with use_runtime(runtime):
            hook = hook_class(**{hook_class.conn_name_attr: probe_id})
            ok, message = hook.test_connection()
    except Exception as exc:  # a hook's failure, whatever it is, is the answer, not an error of ours
        return ConnectionCheck(False, told(f"{type(exc).__name__}: {exc}"))
    return ConnectionCheck(bool(ok), told(str(message)))


def _without_secrets(text: str, connection: Connection) -> str:
    secrets = [connection.password or ""]
    secrets += [str(v) for k, v in connection.extra_dejson.items() if is_sensitive_name(k) and v]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
