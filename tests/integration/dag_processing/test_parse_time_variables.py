"""A DAG file may read a Variable at import time, as in Airflow: from the database, or the env override."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.dag_processing.processor import DagProcessor
from tradewind.store import dags, import_errors, variables
from tradewind.store.engine import make_session_factory, transaction

DAG_FILE = """
from datetime import datetime
from tradewind import DAG, EmptyOperator, Variable

team = Variable.get("owning_team", default_var="nobody")
with DAG("owned", schedule=None, start_date=datetime(2026, 1, 1), tags=[team]):
    EmptyOperator(task_id="t")
"""

WRITES = """
from tradewind import DAG, Variable
Variable.set("x", "1")
"""


def _parse(settings: Settings, engine: Engine) -> None:
    DagProcessor(settings, make_session_factory(engine)).run_once(utcnow())


def test_a_dag_file_reads_a_stored_variable_while_parsed(
    settings: Settings, migrated_engine: Engine, tw_home: Path
) -> None:
    sessions = make_session_factory(migrated_engine)
    with transaction(sessions) as session:
        variables.set_variable(session=session, key="owning_team", value="data-eng")
    (tw_home / "dags" / "owned.py").write_text(DAG_FILE)
    _parse(settings, migrated_engine)
    with sessions() as session:
        assert dags.get_serialized_dag(session=session, dag_id="owned").tags == ["data-eng"]


def test_a_missing_variable_takes_the_default(settings: Settings, migrated_engine: Engine, tw_home: Path) -> None:
    (tw_home / "dags" / "owned.py").write_text(DAG_FILE)
    _parse(settings, migrated_engine)
    with make_session_factory(migrated_engine)() as session:
        assert dags.get_serialized_dag(session=session, dag_id="owned").tags == ["nobody"]


def test_the_env_override_wins_over_the_stored_value(
    settings: Settings, migrated_engine: Engine, tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = make_session_factory(migrated_engine)
    with transaction(sessions) as session:
        variables.set_variable(session=session, key="owning_team", value="data-eng")
    monkeypatch.setenv("TRADEWIND_VAR_OWNING_TEAM", "from-env")
    (tw_home / "dags" / "owned.py").write_text(DAG_FILE)
    _parse(settings, migrated_engine)
    with sessions() as session:
        assert dags.get_serialized_dag(session=session, dag_id="owned").tags == ["from-env"]


def test_writing_a_variable_at_parse_time_is_a_clear_import_error(
    settings: Settings, migrated_engine: Engine, tw_home: Path
) -> None:
    (tw_home / "dags" / "writes.py").write_text(WRITES)
    _parse(settings, migrated_engine)
    with make_session_factory(migrated_engine)() as session:
        rows, _ = import_errors.list_import_errors(session=session)
    assert len(rows) == 1 and "while a DAG file is being parsed" in rows[0].message
