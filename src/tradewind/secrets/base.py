"""``BaseSecretsBackend``: Airflow's interface for a place connections and variables can come from.

A backend answers ``get_conn_value(conn_id)`` with the connection's URI or JSON form (or None), and
``get_variable(key)`` with the value (or None); ``get_connection`` parses the first. ``get_config`` is
optional (Tradewind reads no configuration from backends yet; it is here so Airflow backends load).
"""

from __future__ import annotations

from tradewind.sdk.connection import Connection


class BaseSecretsBackend:
    def get_conn_value(self, conn_id: str) -> str | None:
        """The connection's URI or JSON form, or None when this backend does not hold it."""
        return None

    def deserialize_connection(self, conn_id: str, value: str) -> Connection:
        return Connection.parse(value, conn_id)

    def get_connection(self, conn_id: str) -> Connection | None:
        value = self.get_conn_value(conn_id)
        return None if value is None else self.deserialize_connection(conn_id, value)

    def get_variable(self, key: str) -> str | None:
        return None

    def get_config(self, key: str) -> str | None:
        return None
