"""Connections and variables from environment variables: ``TRADEWIND_CONN_<ID>`` / ``TRADEWIND_VAR_<KEY>``,
and ``AIRFLOW_CONN_<ID>`` / ``AIRFLOW_VAR_<KEY>`` when Airflow compatibility is on."""

from __future__ import annotations

import os
from collections.abc import Mapping

from tradewind.secrets.base import BaseSecretsBackend


class EnvironmentVariablesBackend(BaseSecretsBackend):
    def __init__(self, *, airflow_names: bool, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._conn_prefixes = ["TRADEWIND_CONN_"] + (["AIRFLOW_CONN_"] if airflow_names else [])
        self._var_prefixes = ["TRADEWIND_VAR_"] + (["AIRFLOW_VAR_"] if airflow_names else [])

    def _first(self, prefixes: list[str], name: str) -> str | None:
        for prefix in prefixes:
            value = self._environ.get(prefix + name.upper())
            if value:
                return value
        return None

    def get_conn_value(self, conn_id: str) -> str | None:
        return self._first(self._conn_prefixes, conn_id)

    def get_variable(self, key: str) -> str | None:
        return self._first(self._var_prefixes, key)
