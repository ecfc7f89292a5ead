"""`tradewind tasks list|states-for-dag-run|clear|logs|test` on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.runner.harness import (
    DAG_ID,
    RUN_ID,
    SQLITE_ONLY,
    TRADEWIND,
    RunnerEnv,
    runner_database,
)
from tradewind.cli.main import main
from tradewind.cli.tasks import STATE_COLUMNS
from tradewind.config.settings import Settings
from tradewind.core.states import TaskInstanceState
from tradewind.store import task_instances
from tradewind.store.audit import list_audit
from tradewind.store.engine import transaction

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def runner_env(settings: Settings, tw_home: Path, tmp_path: Path) -> Iterator[RunnerEnv]:
    with runner_database(settings, tw_home, tmp_path) as env:
        yield env


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _mark(env: RunnerEnv, task_id: str, state: TaskInstanceState) -> None:
    with transaction(env.factory) as session:
        task_instances.mark_task_instance(session=session, key=env.key(task_id), state=state, now=NOW)


# -- list -------------------------------------------------------------------------------------------------


def test_list_as_json_comes_from_the_stored_dag(
    runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    # The DAG file is gone: listing never imports user code.
    (runner_env.settings.dags_folder / "runner_basics.py").unlink()
    rows = _json(capsys, ["tasks", "list", DAG_ID, "-o", "json"])
    assert isinstance(rows, list)
    by_id = {row["task_id"]: row for row in rows}
    assert [row["task_id"] for row in rows] == sorted(by_id)
    assert by_id["bash_echo"]["operator"] == "BashOperator"
    assert by_id["bash_echo"]["dag_id"] == DAG_ID
    assert by_id["double"]["is_mapped"] is True
    assert by_id["choose"]["downstream_task_ids"] == ["branch_a", "branch_b"]
    assert by_id["branch_a"]["upstream_task_ids"] == ["choose"]


@SQLITE_ONLY
def test_list_plain_and_tree(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "list", DAG_ID, "-o", "plain"]) == 0
    assert "bash_echo\nbash_timeout\nbranch_a\n" in capsys.readouterr().out
    assert main(["tasks", "list", DAG_ID, "--tree"]) == 0
    tree = capsys.readouterr().out.splitlines()
    choose = next(
        i for i, line in enumerate(tree) if line.startswith("<Task(") and line.endswith("): choose>")
    )
    assert tree[choose + 1 : choose + 3] == [
        "    <Task(BashOperator): branch_a>",
        "    <Task(BashOperator): branch_b>",
    ]
    nested = _json(capsys, ["tasks", "list", DAG_ID, "--tree", "-o", "json"])
    assert isinstance(nested, list)
    make_list = next(node for node in nested if node["task_id"] == "make_list")
    assert [child["task_id"] for child in make_list["downstream"]] == ["double"]


@SQLITE_ONLY
def test_list_of_an_unknown_dag_fails(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "list", "no_such_dag"]) == 1
    assert "no_such_dag" in capsys.readouterr().err


# -- states-for-dag-run -----------------------------------------------------------------------------------


def test_states_for_dag_run(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    _mark(runner_env, "bash_echo", TaskInstanceState.SUCCESS)
    rows = _json(capsys, ["tasks", "states-for-dag-run", DAG_ID, RUN_ID, "-o", "json"])
    assert isinstance(rows, list)
    assert all(tuple(row) == STATE_COLUMNS for row in rows)
    by_id = {row["task_id"]: row for row in rows}
    assert by_id["bash_echo"]["state"] == "success"
    assert by_id["bash_echo"]["end_date"] == NOW.isoformat()
    assert by_id["waiter"]["state"] == "none"
    assert by_id["waiter"]["run_id"] == RUN_ID
    assert by_id["waiter"]["map_index"] == -1


@SQLITE_ONLY
def test_states_for_an_unknown_run_fails(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "states-for-dag-run", DAG_ID, "nope"]) == 1
    assert "'nope'" in capsys.readouterr().err


# -- clear ------------------------------------------------------------------------------------------------


def test_clear_only_failed_by_regex(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    _mark(runner_env, "python_fail", TaskInstanceState.FAILED)
    _mark(runner_env, "python_skip", TaskInstanceState.SUCCESS)
    assert main(["tasks", "clear", DAG_ID, "-t", "^python_", "--only-failed", "--yes"]) == 0
    assert "Cleared 1 task instance(s)." in capsys.readouterr().out
    assert runner_env.ti("python_fail").state is None
    assert runner_env.ti("python_skip").state == "success"
    with transaction(runner_env.factory) as session:
        entries, _ = list_audit(session=session, dag_id=DAG_ID)
    assert [(e.event, e.run_id, e.extra["task_ids"]) for e in entries] == [("clear", RUN_ID, ["python_fail"])]


def test_clear_downstream(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    for task_id in ("choose", "branch_a", "branch_b", "waiter"):
        _mark(runner_env, task_id, TaskInstanceState.SUCCESS)
    assert main(["tasks", "clear", DAG_ID, "-t", "^choose$", "--downstream", "--run-id", RUN_ID, "-y"]) == 0
    assert [runner_env.ti(t).state for t in ("choose", "branch_a", "branch_b", "waiter")] == [
        None,
        None,
        None,
        "success",
    ]


@SQLITE_ONLY
def test_clear_asks_first(
    runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _mark(runner_env, "waiter", TaskInstanceState.FAILED)
    monkeypatch.setattr("builtins.input", lambda _question: "n")
    assert main(["tasks", "clear", DAG_ID, "-t", "waiter"]) == 0
    out = capsys.readouterr().out
    assert f"{RUN_ID}  waiter  (failed)" in out
    assert "Cancelled, nothing was cleared." in out
    assert runner_env.ti("waiter").state == "failed"


@SQLITE_ONLY
def test_clear_with_a_bad_regex_is_a_usage_error(
    runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tasks", "clear", DAG_ID, "-t", "(", "-y"]) == 2
    assert "--task-regex" in capsys.readouterr().err


# -- logs -------------------------------------------------------------------------------------------------


@SQLITE_ONLY
def test_logs_prints_the_latest_try(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    runner_env.queue("python_skip", try_number=2)
    for try_number in (1, 2):
        path = runner_env.log_path("python_skip", try_number)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"2026-01-01T00:00:00.000+00:00 line of try {try_number}\n")
    assert main(["tasks", "logs", DAG_ID, "python_skip", RUN_ID]) == 0
    assert capsys.readouterr().out == "2026-01-01T00:00:00.000+00:00 line of try 2\n"
    assert main(["tasks", "logs", DAG_ID, "python_skip", RUN_ID, "--try-number", "1"]) == 0
    assert "line of try 1" in capsys.readouterr().out
    assert main(["tasks", "logs", DAG_ID, "python_skip", RUN_ID, "--try-number", "3"]) == 1
    said = capsys.readouterr().err
    assert "no log for runner_basics.python_skip" in said and "try 3: no file" in said
    assert "attempt=3.log" in said and "no remote log store" in said  # where it looked, each place named


@SQLITE_ONLY
def test_logs_of_a_task_that_never_ran(runner_env: RunnerEnv, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "logs", DAG_ID, "waiter", RUN_ID]) == 1
    assert "has not run yet" in capsys.readouterr().err


# -- test -------------------------------------------------------------------------------------------------
# Through the console script on purpose: task code logs to the real process's stderr, and the last test
# checks that the process needs no database at all.


@SQLITE_ONLY
def test_tasks_test_runs_in_process_and_records_nothing(runner_env: RunnerEnv) -> None:
    result = subprocess.run(
        [TRADEWIND, "tasks", "test", DAG_ID, "bash_echo", "2024-03-04", "--task-params", '{"who": "tester"}'],
        env=runner_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.endswith(" hello tester on 2024-03-04") for line in lines)
    assert all(datetime.fromisoformat(line.split(" ", 1)[0]) for line in lines)
    assert "very-secret-token" not in result.stderr
    ti = runner_env.ti("bash_echo")
    assert (ti.state, ti.try_number) == (None, 0)
    assert runner_env.xcom("bash_echo") is None
    assert not runner_env.log_path("bash_echo").exists()


@SQLITE_ONLY
def test_tasks_test_reports_failure(runner_env: RunnerEnv) -> None:
    result = subprocess.run(
        [TRADEWIND, "tasks", "test", DAG_ID, "python_fail"],
        env=runner_env.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "ValueError: boom from python_fail" in result.stderr
    assert runner_env.ti("python_fail").state is None


def test_tasks_test_needs_no_database(tw_home: Path, tmp_path: Path) -> None:
    source = Path(__file__).parents[2] / "integration" / "runner" / "dags" / "runner_basics.py"
    (tw_home / "dags" / "runner_basics.py").write_text(source.read_text())
    env = {"TRADEWIND_HOME": str(tw_home), "TW_TEST_MARKERS": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [TRADEWIND, "tasks", "test", DAG_ID, "python_skip"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Task skipped: nothing to do today" in result.stderr
    assert not (tw_home / "tradewind.db").exists()
