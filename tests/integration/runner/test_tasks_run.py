"""`tradewind tasks run` end to end: real subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.runner.harness import DAG_ID, RUN_ID, SQLITE_ONLY, RunnerEnv
from tests.waiting import wait_for
from tests.warm_cli import run_tradewind
from tradewind.store.engine import transaction
from tradewind.store.tables import DagRunModel
from tradewind.store.task_history import list_tries


def _stamped(line: str) -> datetime:
    stamp, _ = line.split(" ", 1)
    return datetime.fromisoformat(stamp)


@ON_SQLITE_ONLY
def test_bash_try_runs_to_success_with_xcom_rendered_fields_and_a_timestamped_log(
    runner_env: RunnerEnv,
) -> None:
    runner_env.queue("bash_echo")
    before = datetime.now(UTC)
    result = runner_env.run("bash_echo")
    assert result.returncode == 0, result.stderr

    ti = runner_env.ti("bash_echo")
    assert ti.state == "success"
    assert ti.try_number == 1
    assert ti.start_date is not None and ti.end_date is not None and ti.end_date >= ti.start_date
    assert ti.duration is not None and ti.duration >= 0
    assert ti.hostname and ti.pid
    assert runner_env.xcom("bash_echo") == "last-line"
    # Templates rendered with ds and params; secrets in env masked in what the UI shows.
    assert ti.rendered_fields is not None
    assert ti.rendered_fields["bash_command"].startswith('echo "hello world on 2024-01-01"')
    assert ti.rendered_fields["env"] == {"API_TOKEN": "***", "PLAIN": "20240101"}

    lines = runner_env.log("bash_echo").splitlines()
    for line in lines:
        stamp = _stamped(line)
        assert stamp.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=5) <= stamp <= datetime.now(UTC)
    messages = [line.split(" ", 1)[1] for line in lines]
    start = next(i for i, m in enumerate(messages) if m.startswith("INFO tradewind.task - Running "))
    hello = messages.index("hello world on 2024-01-01")
    # Task output (stdout and the subprocess's stderr) lands between the runner's own lines, in order.
    assert start < hello < messages.index("to-stderr") < messages.index("last-line")
    assert any("Marking task as SUCCESS" in m for m in messages[hello:])
    # The success callback ran, and its failure was logged without changing the outcome.
    assert runner_env.marker_lines("callbacks") == ["success 1"]
    assert any("on_success_callback" in m and "failed" in m for m in messages)


def test_failure_goes_up_for_retry_then_fails_when_tries_are_used_up(runner_env: RunnerEnv) -> None:
    runner_env.queue("python_fail")
    first = runner_env.run("python_fail")
    assert first.returncode == 1
    ti = runner_env.ti("python_fail")
    assert ti.state == "up_for_retry"
    assert ti.state_reason == "ValueError: boom from python_fail"
    assert ti.end_date is not None and ti.next_retry_at is not None
    assert ti.next_retry_at - ti.end_date == timedelta(seconds=30)
    log = runner_env.log("python_fail")
    assert "ValueError: boom from python_fail" in log
    assert "Marking task as UP_FOR_RETRY" in log

    runner_env.queue("python_fail", try_number=2)
    second = runner_env.run("python_fail", try_number=2)
    assert second.returncode == 1
    ti = runner_env.ti("python_fail")
    assert ti.state == "failed"
    assert ti.try_number == 2
    assert ti.next_retry_at is None
    assert "Marking task as FAILED" in runner_env.log("python_fail", try_number=2)
    assert runner_env.marker_lines("python_fail") == ["ran", "ran"]
    assert runner_env.marker_lines("callbacks") == ["retry 1 ValueError", "failure 2 ValueError"]
    # Each finished try is kept in the history.
    with transaction(runner_env.factory) as session:
        tries = list_tries(session=session, key=runner_env.key("python_fail"))
    assert [(t.try_number, t.state) for t in tries] == [(1, "up_for_retry"), (2, "failed")]


@SQLITE_ONLY
def test_task_skipped_ends_the_try_skipped(runner_env: RunnerEnv) -> None:
    runner_env.queue("python_skip")
    result = runner_env.run("python_skip")
    assert result.returncode == 0
    assert runner_env.ti("python_skip").state == "skipped"
    assert "Task skipped: nothing to do today" in runner_env.log("python_skip")


@SQLITE_ONLY
def test_execution_timeout_kills_a_sleeping_bash_task(runner_env: RunnerEnv) -> None:
    runner_env.queue("bash_timeout")
    started = time.monotonic()
    result = runner_env.run("bash_timeout")
    assert result.returncode == 1
    # The command sleeps 31.37 s: the try ended without waiting for it (a bound on behaviour, not on speed).
    assert time.monotonic() - started < 31.37
    ti = runner_env.ti("bash_timeout")
    assert ti.state == "failed"
    assert ti.state_reason == "timed out: execution_timeout of 1s passed"
    log = runner_env.log("bash_timeout")
    assert "sleeping" in log and "woke up" not in log
    # on_kill stopped the whole process group of the command: no `sleep` is left behind.
    wait_for(lambda: not _processes_matching("sleep 31.37"), timeout=10, what="the sleep to be killed")


def _processes_matching(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith(text)]


def test_a_redelivered_run_of_a_running_try_does_not_run_user_code(runner_env: RunnerEnv) -> None:
    runner_env.queue("waiter")
    first = runner_env.start("waiter")
    try:
        wait_for(lambda: runner_env.marker_lines("waiter") == ["started"], what="the waiter to start")
        duplicate = runner_env.run("waiter")
        assert duplicate.returncode == 0
        assert "already running" in duplicate.stderr
        assert runner_env.marker_lines("waiter") == ["started"]
        assert runner_env.log("waiter").count("tradewind.task - Running ") == 1
        assert runner_env.ti("waiter").state == "running"
    finally:
        first.terminate()
        first.wait(30)


def test_a_finished_try_is_not_run_again(runner_env: RunnerEnv) -> None:
    runner_env.queue("python_skip")
    assert runner_env.run("python_skip").returncode == 0
    again = runner_env.run("python_skip")
    assert again.returncode == 0
    assert "try 1 is skipped, not queued" in again.stderr
    # A message for an older try (the task instance moved on) is refused too.
    stale = runner_env.run("python_skip", try_number=0 + 5)
    assert stale.returncode == 0
    assert "not try 5" in stale.stderr


@SQLITE_ONLY
def test_sigterm_runs_on_kill_and_marks_the_try(runner_env: RunnerEnv) -> None:
    runner_env.queue("waiter")
    process = runner_env.start("waiter")
    wait_for(lambda: runner_env.marker_lines("waiter") == ["started"], what="the waiter to start")
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 1
    assert runner_env.marker_lines("waiter") == ["started", "on_kill"]
    ti = runner_env.ti("waiter")
    assert ti.state == "failed"
    assert ti.state_reason == "terminated by SIGTERM"
    log = runner_env.log("waiter")
    assert "received SIGTERM; terminating" in log
    assert "Marking task as FAILED" in log


def test_clearing_a_running_try_stops_it_through_the_heartbeat(runner_env: RunnerEnv) -> None:
    runner_env.queue("waiter")
    process = runner_env.start("waiter")
    wait_for(lambda: runner_env.marker_lines("waiter") == ["started"], what="the waiter to start")
    cleared = run_tradewind(
        ["tasks", "clear", DAG_ID, "-t", "^waiter$", "--run-id", RUN_ID, "--yes"], env=runner_env.env, timeout=60
    )
    assert cleared.returncode == 0, cleared.stderr
    assert process.wait(30) == 1
    assert runner_env.marker_lines("waiter") == ["started", "on_kill"]
    ti = runner_env.ti("waiter")
    assert ti.state is None  # the clear stands: the runner did not overwrite it
    log = runner_env.log("waiter")
    assert "state externally set to none; terminating" in log
    assert "Marking task as" not in log


@SQLITE_ONLY
def test_params_are_merged_with_the_run_conf(runner_env: RunnerEnv) -> None:
    with transaction(runner_env.factory) as session:
        session.execute(update(DagRunModel).values(conf={"who": "conf"}))
    runner_env.queue("bash_echo")
    assert runner_env.run("bash_echo").returncode == 0
    assert "hello conf on 2024-01-01" in runner_env.log("bash_echo")


@ON_SQLITE_ONLY
def test_mapped_task_runs_one_map_index_with_upstream_xcom(runner_env: RunnerEnv) -> None:
    runner_env.queue("make_list")
    assert runner_env.run("make_list").returncode == 0
    assert runner_env.xcom("make_list") == [1, 2, 3]
    runner_env.queue("double", map_index=1)
    result = runner_env.run("double", map_index=1)
    assert result.returncode == 0, runner_env.log("double", map_index=1)
    assert runner_env.ti("double", 1).state == "success"
    assert runner_env.xcom("double", map_index=1) == 4
    assert runner_env.marker_lines("double") == ["2"]

    runner_env.queue("echo_each", map_index=1)
    assert runner_env.run("echo_each", map_index=1).returncode == 0
    log = runner_env.log("echo_each", map_index=1)
    assert "second" in log and "first" not in log


@SQLITE_ONLY
def test_a_dag_file_that_fails_to_import_fails_the_try_with_the_error(runner_env: RunnerEnv) -> None:
    path = runner_env.settings.dags_folder / "runner_basics.py"
    source = path.read_text()
    broken_line = source.count("\n") + 1
    path.write_text(source + "import not_a_module_xyz  # broken since it was parsed\n")
    runner_env.queue("python_skip")
    result = runner_env.run("python_skip")
    assert result.returncode == 1
    ti = runner_env.ti("python_skip")
    assert ti.state == "failed"
    assert ti.state_reason is not None
    assert f"{path}:{broken_line} failed to import" in ti.state_reason
    assert "ModuleNotFoundError: No module named 'not_a_module_xyz'" in ti.state_reason
    log = runner_env.log("python_skip")
    assert f"DAG file {path}:{broken_line} failed to import: ModuleNotFoundError" in log
    assert "Traceback" not in log


@ON_SQLITE_ONLY
def test_branch_skips_the_branch_not_taken(runner_env: RunnerEnv) -> None:
    runner_env.queue("choose")
    assert runner_env.run("choose").returncode == 0
    assert runner_env.ti("branch_b").state == "skipped"
    assert runner_env.ti("branch_a").state is None
    assert runner_env.xcom("choose") == "branch_a"


@SQLITE_ONLY
def test_multiple_outputs_push_each_key(runner_env: RunnerEnv) -> None:
    runner_env.queue("outputs")
    assert runner_env.run("outputs").returncode == 0
    assert runner_env.xcom("outputs", "a") == 1
    assert runner_env.xcom("outputs", "b") == 2
    assert runner_env.xcom("outputs") == {"a": 1, "b": 2}


@SQLITE_ONLY
def test_secret_variables_are_masked_in_the_log(runner_env: RunnerEnv) -> None:
    runner_env.queue("read_secret")
    assert runner_env.run("read_secret").returncode == 0
    log = runner_env.log("read_secret")
    assert "connecting with ***" in log
    assert "correct-horse-battery" not in log


@ON_SQLITE_ONLY
def test_without_try_number_the_queued_try_runs(runner_env: RunnerEnv) -> None:
    runner_env.queue("python_skip", try_number=3)
    assert runner_env.run("python_skip", try_number=None).returncode == 0
    ti = runner_env.ti("python_skip")
    assert (ti.state, ti.try_number) == ("skipped", 3)
    assert runner_env.log_path("python_skip", try_number=3).exists()


@SQLITE_ONLY
def test_an_unwritable_log_folder_fails_the_try_instead_of_leaving_it_running(
    runner_env: RunnerEnv, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "logs-is-a-file"
    not_a_folder.write_text("")
    runner_env.env["TRADEWIND__LOGGING__BASE_LOG_FOLDER"] = str(not_a_folder)
    runner_env.queue("python_skip")
    result = runner_env.run("python_skip")
    assert result.returncode == 1
    assert "cannot write the log" in result.stderr
    ti = runner_env.ti("python_skip")
    assert ti.state == "failed"
    assert ti.state_reason is not None and ti.state_reason.startswith("cannot write the log file")
