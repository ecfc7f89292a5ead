"""BashOperator against real bash: streamed output, last line to XCom, exit codes, env, cwd, on_kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waiting import wait_for
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError, TaskSkipped
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.runtime import InMemoryRuntime

from .conftest import run_task, xcom


def test_output_is_streamed_and_the_last_line_pushed(
    runtime: InMemoryRuntime, capfd: pytest.CaptureFixture[str]
) -> None:
    with DAG("d"):
        op = BashOperator(task_id="t", bash_command="echo one; echo two >&2; echo '{{ ds }}'")
    assert run_task(op, runtime) == "2024-03-05"
    assert capfd.readouterr().out.splitlines() == ["one", "two", "2024-03-05"]
    assert xcom(runtime, "d", "t") == "2024-03-05"


def test_a_non_zero_exit_fails_with_the_code(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        op = BashOperator(task_id="t", bash_command="echo partial; exit 3")
    with pytest.raises(TaskExecutionError, match="non-zero exit code 3"):
        run_task(op, runtime)


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("kill -KILL $$", r"exit code -9 \(killed by SIGKILL\)"),  # the OOM killer's signal, to bash
        ("sh -c 'kill -KILL $$'; exit $?", r"exit code 137 \(128 \+ SIGKILL: how a shell reports a command killed by SIGKILL\)"),
    ],
)
def test_a_command_killed_by_a_signal_names_it(runtime: InMemoryRuntime, command: str, reason: str) -> None:
    with DAG("d"):
        op = BashOperator(task_id="t", bash_command=command)
    with pytest.raises(TaskExecutionError, match=reason):
        run_task(op, runtime)


def test_skip_exit_codes(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        default = BashOperator(task_id="default", bash_command="exit 99")
        custom = BashOperator(task_id="custom", bash_command="exit 5", skip_on_exit_code=[5, 6])
        none = BashOperator(task_id="none", bash_command="exit 99", skip_on_exit_code=None)
    with pytest.raises(TaskSkipped):
        run_task(default, runtime)
    with pytest.raises(TaskSkipped):
        run_task(custom, runtime)
    with pytest.raises(TaskExecutionError, match="exit code 99"):
        run_task(none, runtime)


def test_env_replaces_or_appends_and_context_vars_are_set(
    runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_PARENT", "parent")
    with DAG("d"):
        only = BashOperator(
            task_id="only", bash_command='echo "${FROM_PARENT:-unset}-$MINE"', env={"MINE": "m"}
        )
        appended = BashOperator(
            task_id="appended", bash_command='echo "$FROM_PARENT-$MINE"', env={"MINE": "m"}, append_env=True
        )
        inherited = BashOperator(
            task_id="ctx", bash_command='echo "$FROM_PARENT $TRADEWIND_CTX_DAG_ID.$TRADEWIND_CTX_TASK_ID"'
        )
    assert run_task(only, runtime) == "unset-m"
    assert run_task(appended, runtime) == "parent-m"
    assert run_task(inherited, runtime) == "parent d.ctx"


def test_cwd_defaults_to_a_scratch_directory_and_can_be_set(runtime: InMemoryRuntime, tmp_path: Path) -> None:
    with DAG("d"):
        scratch = BashOperator(task_id="scratch", bash_command="pwd")
        chosen = BashOperator(task_id="chosen", bash_command="pwd", cwd=str(tmp_path))
        missing = BashOperator(task_id="missing", bash_command="pwd", cwd=str(tmp_path / "nope"))
    first = run_task(scratch, runtime)
    assert "tradewindtmp" in first and not os.path.exists(first)
    assert run_task(chosen, runtime) == str(tmp_path)
    with pytest.raises(TaskExecutionError, match="does not exist"):
        run_task(missing, runtime)


KILL_SCRIPT = """
import os, sys, threading, time
from tradewind.sdk.dag import DAG
from tradewind.sdk.operators.bash import BashOperator
pid_file = sys.argv[1]
with DAG("d"):
    op = BashOperator(task_id="t", bash_command=sys.argv[2].replace("PIDFILE", pid_file))
op.kill_grace_seconds = 0.5

def killer():
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(pid_file) and open(pid_file).read().strip():
            break
        time.sleep(0.05)
    op.on_kill()

threading.Thread(target=killer, daemon=True).start()
try:
    op.execute({})
except Exception as exc:
    print("ended:", type(exc).__name__)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    "command",
    [
        "sleep 300 & echo $! > PIDFILE; wait",  # a background child of bash
        # ignores SIGTERM, so SIGKILL follows
        "trap '' TERM; (trap '' TERM; sleep 300) & echo $! > PIDFILE; wait",
    ],
)
def test_on_kill_stops_the_whole_process_group(tmp_path: Path, command: str) -> None:
    """Run the operator in a child Python process, kill it through on_kill, and check bash's child died."""
    pid_file = tmp_path / "child.pid"
    result = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(pid_file), command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "ended: TaskExecutionError" in result.stdout, result.stderr
    pid = int(pid_file.read_text())
    try:
        wait_for(lambda: not alive(pid), what=f"the command's process {pid} to be gone after on_kill", timeout=10)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_output_processor_turns_the_last_line_into_the_pushed_value(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        op = BashOperator(
            task_id="t", bash_command="echo noise; echo '{\"rows\": 3}'", output_processor=json.loads
        )
    assert run_task(op, runtime) == {"rows": 3}
    assert xcom(runtime, "d", "t") == {"rows": 3}


def test_output_processor_must_be_callable() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="output_processor must be callable"):
        BashOperator(task_id="t", bash_command="true", output_processor="json")  # type: ignore[arg-type]
