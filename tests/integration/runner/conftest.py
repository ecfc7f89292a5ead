"""Fixtures of the runner tests: see harness.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runner.harness import RunnerEnv, runner_database
from tradewind.config.settings import Settings


@pytest.fixture
def runner_env(settings: Settings, tw_home: Path, tmp_path: Path) -> Iterator[RunnerEnv]:
    with runner_database(settings, tw_home, tmp_path) as env:
        yield env
