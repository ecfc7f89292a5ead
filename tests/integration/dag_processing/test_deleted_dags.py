"""A DAG deleted from the metadata (API, UI or CLI) comes back at the next pass over its file, though the file
is unchanged, as the delete confirmation promises."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.corpus import copy_fixture
from tests.unit.dag_processing.store_view import active_dag_ids
from tradewind.config.settings import Settings
from tradewind.dag_processing.processor import DagProcessor
from tradewind.store import dags
from tradewind.store.engine import transaction


def test_a_deleted_dag_is_parsed_back_from_its_unchanged_file(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    copy_fixture("good_bash.py", dags_folder)
    copy_fixture("good_two_dags.py", dags_folder)
    processor.run_once()
    assert "fixture_good_bash" in active_dag_ids(sessions)
    assert processor.run_once().files_parsed == 0  # unchanged files are skipped

    with transaction(sessions) as session:
        dags.delete_dag(session=session, dag_id="fixture_good_bash")
    assert "fixture_good_bash" not in active_dag_ids(sessions)

    result = processor.run_once()
    assert "fixture_good_bash" in active_dag_ids(sessions)
    assert (result.files_parsed, result.dags_stored) == (1, 1)  # only its file, not the other one
    assert processor.run_once().files_parsed == 0


def test_a_restarted_processor_also_brings_a_deleted_dag_back(
    proc_settings: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    copy_fixture("good_bash.py", dags_folder)
    DagProcessor(proc_settings, sessions).run_once()
    with transaction(sessions) as session:
        dags.delete_dag(session=session, dag_id="fixture_good_bash")
    DagProcessor(proc_settings, sessions).run_once()
    assert "fixture_good_bash" in active_dag_ids(sessions)
