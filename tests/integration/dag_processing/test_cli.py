"""`tradewind dag-processor` as users run it: once with a summary and an exit code, or as a service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.corpus import copy_fixture, marked_line
from tests.unit.dag_processing.store_view import active_dag_ids
from tests.waiting import wait_for
from tests.warm_cli import TRADEWIND
from tradewind.config.settings import Settings


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TRADEWIND_HOME": str(settings.home),
        "TRADEWIND__DATABASE__URL": settings.database_url,
        "TRADEWIND__CORE__LOAD_EXAMPLES": "false",
        **extra,
    }


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRADEWIND, "dag-processor", *args],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_once_exits_1_and_lists_the_import_errors(
    proc_settings: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    copy_fixture("good_bash.py", dags_folder)
    copy_fixture("broken_missing_import.py", dags_folder)

    proc = _run(proc_settings, "--once", "-o", "plain")

    assert proc.returncode == 1, proc.stderr
    assert "2 DAG file(s): 2 parsed" in proc.stdout
    assert "1 file(s) with import errors" in proc.stdout
    line = marked_line("broken_missing_import.py")
    assert f"{dags_folder / 'broken_missing_import.py'}\t{line}\tModuleNotFoundError" in proc.stdout
    assert active_dag_ids(sessions) == {"fixture_good_bash"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_once_exits_0_when_every_file_imports(
    proc_settings: Settings, migrated_engine: object, dags_folder: Path
) -> None:
    copy_fixture("good_two_dags.py", dags_folder)

    proc = _run(proc_settings, "--once")

    assert proc.returncode == 0, proc.stderr
    assert "1 DAG file(s): 1 parsed, 0 unchanged, 0 deleted; 2 DAG(s) stored" in proc.stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_once_prints_errors_as_json(
    proc_settings: Settings, migrated_engine: object, dags_folder: Path
) -> None:
    copy_fixture("broken_sys_exit.py", dags_folder)

    proc = _run(proc_settings, "--once", "-o", "json")

    assert proc.returncode == 1
    [error] = json.loads(proc.stdout)
    assert error["filename"] == str(dags_folder / "broken_sys_exit.py")
    assert error["lineno"] == marked_line("broken_sys_exit.py")
    assert error["message"] == "SystemExit: 3"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unmigrated_database_is_a_configuration_error(proc_settings: Settings) -> None:
    proc = _run(proc_settings, "--once")

    assert proc.returncode == 2
    assert "tradewind db migrate" in proc.stderr


def test_service_follows_the_folder_and_stops_on_sigterm(
    proc_settings: Settings, sessions: sessionmaker[Session], dags_folder: Path
) -> None:
    copy_fixture("good_bash.py", dags_folder)
    env = _env(proc_settings, TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL="0.2")
    proc = subprocess.Popen(
        [TRADEWIND, "dag-processor"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: active_dag_ids(sessions) == {"fixture_good_bash"}, what="the first DAG stored")

        copy_fixture("good_two_dags.py", dags_folder)
        wait_for(lambda: "fixture_two_dags_taskflow" in active_dag_ids(sessions), what="the added file's DAGs")

        (dags_folder / "good_bash.py").unlink()
        wait_for(lambda: "fixture_good_bash" not in active_dag_ids(sessions), what="the deleted file's DAG gone")

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
