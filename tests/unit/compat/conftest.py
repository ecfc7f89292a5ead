"""Airflow's import names served in this test process, and removed again afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradewind.compat.airflow.activation import AirflowNames, enable_airflow_names, installed_finder
from tradewind.config.settings import Settings, load_settings


def forget_airflow_modules() -> None:
    for name in [n for n in sys.modules if n == "airflow" or n.startswith("airflow.")]:
        del sys.modules[name]


@pytest.fixture
def compat_settings(tw_home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def airflow_names(compat_settings: Settings) -> Iterator[Settings]:
    assert enable_airflow_names(compat_settings) is AirflowNames.SERVED
    try:
        yield compat_settings
    finally:
        finder = installed_finder()
        if finder is not None:
            sys.meta_path.remove(finder)
        forget_airflow_modules()
