"""Fixtures for DAG processor tests: settings with a short parse timeout, sessions, a processor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings, load_settings
from tradewind.dag_processing.processor import DagProcessor
from tradewind.store.engine import make_session_factory

#: Long enough for any good corpus file on a busy machine, short enough for the slow file to cost little.
PARSE_TIMEOUT = "3"


@pytest.fixture
def dags_folder(tw_home: Path) -> Path:
    return tw_home / "dags"


@pytest.fixture
def proc_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The parametrised database's settings, examples off, a short per-file timeout."""
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "false")
    monkeypatch.setenv("TRADEWIND__SCHEDULER__DAG_FILE_PROCESSOR_TIMEOUT", PARSE_TIMEOUT)
    return load_settings()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def processor(proc_settings: Settings, sessions: sessionmaker[Session]) -> DagProcessor:
    return DagProcessor(proc_settings, sessions)
