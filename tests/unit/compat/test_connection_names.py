"""Airflow's names for connections, hooks and secrets backends are Tradewind's classes."""

from __future__ import annotations

import importlib

import pytest

from tradewind.config.settings import Settings
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.hooks import BaseHook
from tradewind.secrets import BaseSecretsBackend


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        ("airflow.hooks.base", "BaseHook", BaseHook),
        ("airflow.sdk", "BaseHook", BaseHook),
        ("airflow.sdk", "Connection", Connection),
        ("airflow.models", "Connection", Connection),
        ("airflow.models.connection", "Connection", Connection),
        ("airflow.secrets", "BaseSecretsBackend", BaseSecretsBackend),
        ("airflow.exceptions", "AirflowNotFoundException", NotFoundError),
    ],
)
def test_names(airflow_names: Settings, module: str, name: str, target: object) -> None:
    assert getattr(importlib.import_module(module), name) is target
