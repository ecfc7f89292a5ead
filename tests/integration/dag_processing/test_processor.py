"""The DAG processor against a real database (SQLite and PostgreSQL): what it stores for good and broken
files, and how it follows changes to the DAG folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.corpus import copy_fixture, fixture_path, marked_line
from tests.unit.dag_processing.store_view import (
    active_dag_ids,
    file_records,
    serialized,
    stored_dags,
    stored_errors,
)
from tests.waiting import wait_for
from tradewind.config.settings import Settings, load_settings
from tradewind.dag_processing.processor import DagProcessor

GOOD_TEMPLATE = """
from datetime import datetime

from tradewind import DAG, EmptyOperator

{dags}
"""


def _dag_source(*dag_ids: str, tasks: tuple[str, ...] = ("only",)) -> str:
    blocks = []
    for dag_id in dag_ids:
        body = "\n".join(f"    EmptyOperator(task_id={t!r})" for t in tasks)
        blocks.append(f"with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None):\n{body}\n")
    return GOOD_TEMPLATE.format(dags="\n".join(blocks))


def _rewrite(path: Path, text: str) -> None:
    """Replace a file's content and move its mtime forward, as an editor saving it later would."""
    previous = path.stat().st_mtime if path.exists() else 0.0
    path.write_text(text)
    os.utime(path, (previous + 5, previous + 5))


def test_good_files_are_stored_serialized_with_their_file_records(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    bash = copy_fixture("good_bash.py", dags_folder)
    two = copy_fixture("good_two_dags.py", dags_folder, "team/good_two_dags.py")

    result = processor.run_once()

    assert (result.files_seen, result.files_parsed, result.dags_stored, result.errors) == (2, 2, 3, {})
    assert active_dag_ids(sessions) == {
        "fixture_good_bash",
        "fixture_two_dags_classic",
        "fixture_two_dags_taskflow",
    }
    stored = stored_dags(sessions)
    assert stored["fixture_good_bash"].is_paused  # dags_are_paused_at_creation defaults to true
    assert stored["fixture_two_dags_classic"].fileloc == str(two)
    sdag = serialized(sessions, "fixture_good_bash")
    assert [t.task_id for t in sdag.tasks] == ["hello", "bye"]
    assert sdag.relative_fileloc == "good_bash.py"
    assert serialized(sessions, "fixture_two_dags_taskflow").relative_fileloc == "team/good_two_dags.py"
    records = file_records(sessions)
    assert records[str(bash)][1:] == (["fixture_good_bash"], bash.read_text())
    assert records[str(two)][1] == ["fixture_two_dags_classic", "fixture_two_dags_taskflow"]
    assert stored_errors(sessions) == {}


# file -> (the words the message must contain, whether it names the marked line)
BROKEN = {
    "broken_syntax_error.py": (["SyntaxError"], True),
    "broken_cycle.py": (["cycle", "fixture_cycle"], True),
    "broken_missing_import.py": (
        ["ModuleNotFoundError", "tradewind_fixture_module_that_does_not_exist"],
        True,
    ),
    "broken_duplicate_task_id.py": (["DuplicateTaskIdError", "'same'"], True),
    "broken_sys_exit.py": (["SystemExit: 3"], True),
    "broken_os_exit.py": (["exited with code 4", "os._exit"], False),
    "broken_segfault.py": (["SIGSEGV"], True),
    "broken_slow_import.py": (["timed out after 3 s"], False),  # the conftest's timeout
}


def test_each_broken_file_gets_its_import_error_and_the_good_ones_are_stored(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    for name in [*BROKEN, "good_bash.py", "good_noisy_output.py", "paused_false.py"]:
        copy_fixture(name, dags_folder)

    result = processor.run_once()

    errors = stored_errors(sessions)
    assert set(errors) == set(BROKEN)
    assert {Path(f).name for f in result.errors} == set(BROKEN)
    for name, (words, names_line) in BROKEN.items():
        error = errors[name]
        assert error.filename == str(dags_folder / name)
        for word in words:
            assert word in error.message, (name, error.message)
        assert error.lineno == (marked_line(name) if names_line else None), (name, error)
    assert active_dag_ids(sessions) == {
        "fixture_good_bash",
        "fixture_noisy_output",
        "fixture_unpaused_at_creation",
    }


def test_fixed_file_clears_its_error(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    path = copy_fixture("broken_syntax_error.py", dags_folder, "pipeline.py")
    processor.run_once()
    assert set(stored_errors(sessions)) == {"pipeline.py"}

    _rewrite(path, fixture_path("good_bash.py").read_text())
    result = processor.run_once()

    assert result.files_parsed == 1
    assert result.errors == {}
    assert stored_errors(sessions) == {}
    assert active_dag_ids(sessions) == {"fixture_good_bash"}


def test_broken_edit_keeps_the_dags_the_file_had_until_it_is_fixed(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    path = dags_folder / "pipeline.py"
    _rewrite(path, _dag_source("keeps_running", tasks=("a", "b")))
    processor.run_once()

    _rewrite(path, path.read_text() + "\ndef broken(:\n")
    processor.run_once()

    assert "SyntaxError" in stored_errors(sessions)["pipeline.py"].message
    assert active_dag_ids(sessions) == {"keeps_running"}
    assert [t.task_id for t in serialized(sessions, "keeps_running").tasks] == ["a", "b"]

    _rewrite(path, _dag_source("renamed"))
    processor.run_once()

    assert stored_errors(sessions) == {}
    assert active_dag_ids(sessions) == {"renamed"}


def test_deleted_file_deactivates_its_dags_and_is_forgotten(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    two = copy_fixture("good_two_dags.py", dags_folder)
    broken = copy_fixture("broken_sys_exit.py", dags_folder)
    keep = copy_fixture("good_bash.py", dags_folder)
    processor.run_once()

    two.unlink()
    broken.unlink()
    result = processor.run_once()

    assert (result.files_deleted, result.dags_deactivated) == (2, 2)
    stored = stored_dags(sessions)
    assert not stored["fixture_two_dags_classic"].is_active
    assert not stored["fixture_two_dags_taskflow"].is_active
    assert stored["fixture_good_bash"].is_active
    assert set(file_records(sessions)) == {str(keep)}
    assert stored_errors(sessions) == {}


def test_dag_removed_from_a_file_is_deactivated(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    path = dags_folder / "pair.py"
    _rewrite(path, _dag_source("stays", "goes"))
    processor.run_once()

    _rewrite(path, _dag_source("stays"))
    result = processor.run_once()

    assert result.dags_deactivated == 1
    assert active_dag_ids(sessions) == {"stays"}
    assert set(stored_dags(sessions)) == {"stays", "goes"}


def test_unchanged_files_are_not_parsed_again(
    processor: DagProcessor, sessions: sessionmaker[Session], proc_settings: Settings, dags_folder: Path
) -> None:
    bash = copy_fixture("good_bash.py", dags_folder)
    copy_fixture("broken_syntax_error.py", dags_folder)
    old = bash.stat().st_mtime - 60
    for path in dags_folder.iterdir():
        os.utime(path, (old, old))
    first = processor.run_once()
    assert first.files_parsed == 2

    second = processor.run_once()
    # A new mtime with the same content is not a change either.
    os.utime(bash, (old + 10, old + 10))
    third = processor.run_once()

    # Nor is a restart: the processor knows what it parsed from the database.
    fourth = DagProcessor(proc_settings, sessions).run_once()

    for result in (second, third, fourth):
        assert (result.files_seen, result.files_parsed, result.files_skipped) == (2, 0, 2)
    # The broken file keeps its error while it stays unchanged.
    assert set(stored_errors(sessions)) == {"broken_syntax_error.py"}


def test_changed_file_is_parsed_again(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    path = dags_folder / "grows.py"
    _rewrite(path, _dag_source("grows", tasks=("a",)))
    processor.run_once()

    _rewrite(path, _dag_source("grows", tasks=("a", "b")))
    result = processor.run_once()

    assert (result.files_parsed, result.dags_stored) == (1, 1)
    assert [t.task_id for t in serialized(sessions, "grows").tasks] == ["a", "b"]
    assert file_records(sessions)[str(path)][2] == path.read_text()


def test_duplicate_dag_id_goes_to_the_first_file_and_passes_on_when_it_is_deleted(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    first = copy_fixture("duplicate_dag_id_first.py", dags_folder)
    copy_fixture("duplicate_dag_id_second.py", dags_folder)

    processor.run_once()

    errors = stored_errors(sessions)
    assert set(errors) == {"duplicate_dag_id_second.py"}
    assert (
        "'fixture_duplicate' is already defined in duplicate_dag_id_first.py"
        in errors["duplicate_dag_id_second.py"].message
    )
    assert serialized(sessions, "fixture_duplicate").tags == ["first"]
    # The rest of the second file is stored.
    assert active_dag_ids(sessions) == {"fixture_duplicate", "fixture_duplicate_neighbour"}

    first.unlink()
    processor.run_once()

    assert stored_errors(sessions) == {}
    assert serialized(sessions, "fixture_duplicate").tags == ["second"]
    assert stored_dags(sessions)["fixture_duplicate"].is_active


def test_duplicate_dag_id_passes_on_when_the_first_file_stops_defining_it(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    first = dags_folder / "a_first.py"
    second = dags_folder / "b_second.py"
    _rewrite(first, _dag_source("shared", tasks=("from_first",)))
    _rewrite(second, _dag_source("shared", tasks=("from_second",)))
    processor.run_once()
    assert set(stored_errors(sessions)) == {"b_second.py"}

    _rewrite(first, _dag_source("something_else"))
    processor.run_once()

    assert stored_errors(sessions) == {}
    assert [t.task_id for t in serialized(sessions, "shared").tasks] == ["from_second"]
    assert active_dag_ids(sessions) == {"shared", "something_else"}


def test_new_dags_are_paused_per_setting_unless_the_dag_says_otherwise(
    sessions: sessionmaker[Session],
    proc_settings: Settings,
    dags_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy_fixture("good_bash.py", dags_folder)
    copy_fixture("paused_false.py", dags_folder)
    monkeypatch.setenv("TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION", "false")

    DagProcessor(load_settings(), sessions).run_once()

    stored = stored_dags(sessions)
    assert not stored["fixture_good_bash"].is_paused
    assert not stored["fixture_unpaused_at_creation"].is_paused


def test_tradewindignore_excludes_files_and_forgets_those_it_newly_covers(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    copy_fixture("broken_syntax_error.py", dags_folder, "scratch/broken.py")
    copy_fixture("good_bash.py", dags_folder)
    copy_fixture("good_two_dags.py", dags_folder, "old/good_two_dags.py")
    (dags_folder / ".tradewindignore").write_text("scratch/\n")

    first = processor.run_once()

    assert first.files_seen == 2
    assert stored_errors(sessions) == {}
    assert "fixture_two_dags_classic" in active_dag_ids(sessions)

    (dags_folder / ".tradewindignore").write_text("scratch/\nold/\n")
    second = processor.run_once()

    assert second.files_deleted == 1
    assert active_dag_ids(sessions) == {"fixture_good_bash"}


def test_on_change_is_called_after_a_pass_that_changed_something(
    proc_settings: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    calls: list[int] = []
    processor = DagProcessor(proc_settings, sessions, on_change=lambda r: calls.append(r.dags_stored))
    copy_fixture("good_bash.py", dags_folder)

    processor.run_once()
    processor.run_once()

    assert calls == [1]


def test_refused_copy_is_taken_after_a_restart_when_its_owner_lets_go(
    processor: DagProcessor, proc_settings: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    first = dags_folder / "a_first.py"
    _rewrite(first, _dag_source("shared", tasks=("from_first",)))
    _rewrite(dags_folder / "b_second.py", _dag_source("shared", tasks=("from_second",)))
    processor.run_once()

    restarted = DagProcessor(proc_settings, sessions)
    restarted.run_once()
    first.unlink()
    restarted.run_once()

    assert stored_errors(sessions) == {}
    assert [t.task_id for t in serialized(sessions, "shared").tasks] == ["from_second"]
    assert stored_dags(sessions)["shared"].is_active


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_file_the_database_refuses_is_an_import_error_and_the_others_are_stored(
    processor: DagProcessor, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    # PostgreSQL refuses NUL characters in text columns; the description lands in the dag table as is.
    (dags_folder / "nul.py").write_text(
        "from datetime import datetime\n"
        "from tradewind import DAG, EmptyOperator\n"
        "with DAG('nul_description', description='a\\x00b', start_date=datetime(2024, 1, 1)):\n"
        "    EmptyOperator(task_id='only')\n"
    )
    copy_fixture("good_bash.py", dags_folder)
    copy_fixture("good_two_dags.py", dags_folder)

    result = processor.run_once()

    assert set(stored_errors(sessions)) == {"nul.py"}
    assert "could not be stored" in stored_errors(sessions)["nul.py"].message
    assert set(result.errors) == {str(dags_folder / "nul.py")}
    assert active_dag_ids(sessions) == {
        "fixture_good_bash",
        "fixture_two_dags_classic",
        "fixture_two_dags_taskflow",
    }
    # Until it changes, the file is not tried again.
    assert processor.run_once().files_parsed == 0


def test_run_forever_parses_until_stopped(
    proc_settings: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    copy_fixture("good_bash.py", dags_folder)
    passes: list[int] = []
    processor = DagProcessor(proc_settings, sessions, on_change=lambda r: passes.append(r.files_parsed))
    stop = threading.Event()
    thread = threading.Thread(target=processor.run_forever, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: passes, what="the first parsing pass")
        assert passes == [1]
        assert active_dag_ids(sessions) == {"fixture_good_bash"}
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
