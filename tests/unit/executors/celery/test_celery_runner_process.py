"""The worker side of a try: the runner runs in its own process group, SIGTERM stops the whole group, and
the runner does not outlive a worker process that dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.waiting import wait_for
from tradewind.executors.celery.runner_process import run_runner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"


def _host(tmp_path: Path, command: list[str], kill_grace: float = 5.0) -> subprocess.Popen[str]:
    """A process standing in for a Celery pool process: it calls run_runner and prints the exit code."""
    script = textwrap.dedent(f"""
        import sys
        from tradewind.executors.celery.runner_process import run_runner
        print("exit", run_runner({command!r}, kill_grace={kill_grace}), flush=True)
    """)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def test_the_exit_code_is_returned() -> None:
    assert run_runner(["sh", "-c", "exit 0"]) == 0
    assert run_runner(["sh", "-c", "exit 7"]) == 7


def test_sigterm_stops_the_runner_and_what_it_started(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    host = _host(tmp_path, ["sh", "-c", f"sleep 300 & echo $$ $! > {pids}; wait"])
    wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, timeout=15, what="runner to start")
    runner_pid, child_pid = map(int, pids.read_text().split())
    assert os.getpgid(runner_pid) == runner_pid  # its own group, apart from the worker's

    host.send_signal(signal.SIGTERM)

    out, _ = host.communicate(timeout=15)
    assert out.strip() == f"exit {-signal.SIGTERM}"
    wait_for(lambda: not _alive(runner_pid) and not _alive(child_pid), timeout=10, what="runner group to be gone")


def test_a_runner_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    host = _host(tmp_path, ["sh", "-c", f"trap '' TERM; touch {ready}; while true; do sleep 0.1; done"],
                 kill_grace=1.0)
    wait_for(ready.exists, timeout=15, what="runner to start")

    host.send_signal(signal.SIGTERM)

    out, _ = host.communicate(timeout=15)
    assert out.strip() == f"exit {-signal.SIGKILL}"


def test_the_runner_stops_when_its_worker_process_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    host = _host(tmp_path, ["sh", "-c", f"echo $$ > {pids}; exec sleep 300"])
    wait_for(lambda: pids.exists() and pids.read_text().strip() != "", timeout=15, what="runner to start")
    runner_pid = int(pids.read_text())

    host.kill()  # SIGKILL: no handler runs; only the kernel's parent-death signal can reach the runner
    host.wait(timeout=10)

    wait_for(lambda: not _alive(runner_pid), timeout=10, what="orphaned runner to stop")
