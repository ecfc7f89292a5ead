"""Airflow's import paths of the object storage API are Tradewind's ObjectStoragePath and attach."""

from __future__ import annotations

import importlib

import pytest

from tradewind.config.settings import Settings
from tradewind.sdk.io import ObjectStoragePath, attach, get_fs, has_fs
from tradewind.sdk.io.store import ObjectStore


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        ("airflow.sdk", "ObjectStoragePath", ObjectStoragePath),
        ("airflow.sdk.io", "ObjectStoragePath", ObjectStoragePath),
        ("airflow.sdk.io", "attach", attach),
        ("airflow.sdk.io", "get_fs", get_fs),
        ("airflow.sdk.io", "has_fs", has_fs),
        ("airflow.sdk.io.path", "ObjectStoragePath", ObjectStoragePath),
        ("airflow.sdk.io.store", "attach", attach),
        ("airflow.sdk.io.store", "ObjectStore", ObjectStore),
        ("airflow.io", "attach", attach),
        ("airflow.io.path", "ObjectStoragePath", ObjectStoragePath),
        ("airflow.io.store", "attach", attach),
    ],
)
def test_names(airflow_names: Settings, module: str, name: str, target: object) -> None:
    assert getattr(importlib.import_module(module), name) is target


def test_the_tutorial_module_level_path_parses_without_the_connection(airflow_names: Settings) -> None:
    namespace: dict[str, object] = {}
    exec(
        "from airflow.sdk import ObjectStoragePath\nbase = ObjectStoragePath('s3://aws_default@airflow-tutorial-data/')",
        namespace,
    )
    base = namespace["base"]
    assert isinstance(base, ObjectStoragePath) and base.conn_id == "aws_default"
