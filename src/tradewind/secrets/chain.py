"""The backends in lookup order, built from ``[secrets]``: environment, the user's backend, mounted files,
then the database. The first backend that knows an id answers."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.compat.airflow.activation import enable_airflow_names
from tradewind.config.settings import Settings
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConfigError
from tradewind.secrets.base import BaseSecretsBackend
from tradewind.secrets.environment import EnvironmentVariablesBackend
from tradewind.secrets.metastore import MetastoreBackend
from tradewind.secrets.mounted_files import MountedFilesBackend
from tradewind.store.field_cipher import FieldCipher


class SecretsChain:
    def __init__(self, backends: Sequence[BaseSecretsBackend]) -> None:
        self.backends = list(backends)

    def get_connection(self, conn_id: str) -> Connection | None:
        for backend in self.backends:
            connection = backend.get_connection(conn_id)
            if connection is not None:
                if connection.conn_id is None:
                    connection.conn_id = conn_id
                return connection
        return None

    def get_variable(self, key: str) -> str | None:
        for backend in self.backends:
            value = backend.get_variable(key)
            if value is not None:
                return value
        return None


def secrets_chain(settings: Settings, factory: sessionmaker[Session] | None) -> SecretsChain:
    """Every backend ``settings`` names, in lookup order; the database last when ``factory`` is given."""
    backends: list[BaseSecretsBackend] = [
        EnvironmentVariablesBackend(airflow_names=settings.core.airflow_compat)
    ]
    if settings.secrets.backend:
        # A backend may be written against Airflow's names (``from airflow.secrets import ...``).
        enable_airflow_names(settings)
        backends.append(load_backend(settings.secrets.backend, settings.secrets.backend_kwargs))
    if settings.secrets.connections_path or settings.secrets.variables_path:
        backends.append(
            MountedFilesBackend(
                connections_path=settings.secrets.connections_path,
                variables_path=settings.secrets.variables_path,
            )
        )
    if factory is not None:
        backends.append(MetastoreBackend(factory, FieldCipher.from_settings(settings)))
    return SecretsChain(backends)


def load_backend(path: str, kwargs_text: str) -> BaseSecretsBackend:
    """An instance of the class ``pkg.module.Class`` built with the JSON object ``kwargs_text``."""
    module_name, _, class_name = path.rpartition(".")
    try:
        kwargs = json.loads(kwargs_text or "{}")
    except ValueError:
        raise ConfigError(
            "[secrets] backend_kwargs is not valid JSON", key="secrets.backend_kwargs"
        ) from None
    if not isinstance(kwargs, dict):
        raise ConfigError("[secrets] backend_kwargs must be a JSON object", key="secrets.backend_kwargs")
    try:
        backend_class: Any = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"[secrets] backend {path!r} cannot be imported: {type(exc).__name__}: {exc}",
            key="secrets.backend",
        ) from exc
    try:
        backend = backend_class(**kwargs)
    except Exception as exc:
        # The kwargs may hold credentials: name the class and the error type only.
        raise ConfigError(
            f"[secrets] backend {path!r} could not be built from backend_kwargs ({type(exc).__name__})",
            key="secrets.backend",
        ) from exc
    for method in ("get_connection", "get_variable"):
        if not callable(getattr(backend, method, None)):
            raise ConfigError(
                f"[secrets] backend {path!r} has no {method}() (subclass BaseSecretsBackend)",
                key="secrets.backend",
            )
    return backend
