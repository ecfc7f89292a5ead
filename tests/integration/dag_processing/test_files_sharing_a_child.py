"""The DAG processor with one parsing process, so that files share a child: a file that hangs or crashes in
the middle of a pass costs only itself, and a helper module beside the DAG files is read afresh."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.corpus import copy_fixture, marked_line
from tests.unit.dag_processing.store_view import active_dag_ids, serialized, stored_errors
from tradewind.config.settings import Settings, load_settings
from tradewind.dag_processing.processor import DagProcessor

GOOD = """
from datetime import datetime
from tradewind import DAG, EmptyOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="only")
"""
USES_HELPER = """
from datetime import datetime
from tradewind import DAG, EmptyOperator
import team_defaults

with DAG("uses_helper", start_date=datetime(2024, 1, 1), schedule=None, description=team_defaults.OWNER):
    EmptyOperator(task_id="only")
"""


@pytest.fixture
def one_child(proc_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__SCHEDULER__PARSING_PROCESSES", "1")
    return load_settings()


def _later(path: Path, text: str) -> None:
    """Write the file with an mtime clearly after its previous one, as a later save would."""
    previous = path.stat().st_mtime if path.exists() else 0.0
    path.write_text(text)
    os.utime(path, (previous + 5, previous + 5))


def test_a_hanging_file_mid_pass_gets_its_timeout_and_the_others_are_stored(
    one_child: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    (dags_folder / "a_first.py").write_text(GOOD.format(dag_id="first"))
    copy_fixture("broken_slow_import.py", dags_folder, "b_hangs.py")
    (dags_folder / "c_last.py").write_text(GOOD.format(dag_id="last"))

    result = DagProcessor(one_child, sessions).run_once()

    assert active_dag_ids(sessions) == {"first", "last"}
    errors = stored_errors(sessions)
    assert set(errors) == {"b_hangs.py"}
    assert "timed out after 3 s" in errors["b_hangs.py"].message  # the conftest's timeout
    assert errors["b_hangs.py"].filename == str(dags_folder / "b_hangs.py")
    assert result.files_parsed == 3


def test_a_crashing_file_mid_pass_gets_its_error_and_the_others_are_stored(
    one_child: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    (dags_folder / "a_first.py").write_text(GOOD.format(dag_id="first"))
    copy_fixture("broken_segfault.py", dags_folder, "b_crashes.py")
    copy_fixture("broken_os_exit.py", dags_folder, "c_exits.py")
    (dags_folder / "d_last.py").write_text(GOOD.format(dag_id="last"))

    DagProcessor(one_child, sessions).run_once()

    assert active_dag_ids(sessions) == {"first", "last"}
    errors = stored_errors(sessions)
    assert set(errors) == {"b_crashes.py", "c_exits.py"}
    assert "SIGSEGV" in errors["b_crashes.py"].message
    assert errors["b_crashes.py"].lineno == marked_line("broken_segfault.py")
    assert "exited with code 4" in errors["c_exits.py"].message


def test_a_changed_helper_module_is_seen_when_its_dag_file_is_parsed_again(
    one_child: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    helper = dags_folder / "team_defaults.py"
    helper.write_text("OWNER = 'data-team'\n")
    dag_file = dags_folder / "pipeline.py"
    dag_file.write_text(USES_HELPER)
    processor = DagProcessor(one_child, sessions)
    processor.run_once()
    assert serialized(sessions, "uses_helper").description == "data-team"

    _later(helper, "OWNER = 'platform-team'\n")
    _later(dag_file, USES_HELPER + "\n# edited\n")
    processor.run_once()

    assert serialized(sessions, "uses_helper").description == "platform-team"
