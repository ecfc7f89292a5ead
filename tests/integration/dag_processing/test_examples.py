"""The example DAGs shipped with the package: all parse cleanly, and each one runs to a successful run."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.store_view import active_dag_ids, stored_errors
from tests.warm_cli import run_tradewind
from tradewind.config.settings import Settings, load_settings
from tradewind.dag_processing.discovery import example_dags_folder
from tradewind.dag_processing.processor import DagProcessor

EXAMPLES = [
    "example_bash_operator",
    "example_branch",
    "example_cron_schedule",
    "example_dynamic_mapping",
    "example_params",
    "example_python_operator",
    "example_retries",
    "example_setup_teardown",
    "example_task_group",
    "example_taskflow",
    "example_templating",
    "example_trigger_rules",
]


@pytest.fixture
def example_settings(proc_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "true")
    return load_settings()


def test_every_example_parses_without_import_errors(
    example_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    result = DagProcessor(example_settings, sessions).run_once()

    assert result.errors == {}
    assert stored_errors(sessions) == {}
    assert active_dag_ids(sessions) == set(EXAMPLES)
    assert {p.stem for p in example_dags_folder().glob("example_*.py")} == set(EXAMPLES)


def test_turning_examples_off_deactivates_them(
    example_settings: Settings, proc_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    DagProcessor(example_settings, sessions).run_once()

    DagProcessor(proc_settings, sessions).run_once()

    assert active_dag_ids(sessions) == set()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_example_runs_green(dag_id: str, example_settings: Settings, migrated_engine: object) -> None:
    env = {
        **os.environ,
        "TRADEWIND_HOME": str(example_settings.home),
        "TRADEWIND__DATABASE__URL": example_settings.database_url,
        "TRADEWIND__CORE__LOAD_EXAMPLES": "true",
    }
    proc = run_tradewind(["dags", "test", dag_id], env=env, timeout=120)  # forked from a warm CLI

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.rstrip().endswith(": success"), proc.stdout[-3000:]
