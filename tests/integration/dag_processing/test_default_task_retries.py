"""core.default_task_retries applies to tasks that set no retries, and only to them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.config.settings import load_settings
from tradewind.core.clock import utcnow
from tradewind.dag_processing.processor import DagProcessor
from tradewind.store import dags
from tradewind.store.engine import make_session_factory

DAG_FILE = """
from datetime import datetime
from tradewind import DAG, EmptyOperator
with DAG("retrying", schedule=None, start_date=datetime(2026, 1, 1)):
    EmptyOperator(task_id="unset")
    EmptyOperator(task_id="none_wanted", retries=0)
    EmptyOperator(task_id="five", retries=5)
"""


def test_unset_retries_take_the_deployment_default(
    migrated_engine: Engine, db_url: str, tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", db_url)
    monkeypatch.setenv("TRADEWIND__CORE__DEFAULT_TASK_RETRIES", "2")
    (tw_home / "dags" / "retrying.py").write_text(DAG_FILE)
    sessions = make_session_factory(migrated_engine)
    DagProcessor(load_settings(), sessions).run_once(utcnow())
    with sessions() as session:
        tasks = dags.get_serialized_dag(session=session, dag_id="retrying").task_dict
    assert (tasks["unset"].retries, tasks["none_wanted"].retries, tasks["five"].retries) == (2, 0, 5)
