"""`tradewind tasks logs --follow` prints a try's log as it is written and stops once the try has ended."""

from __future__ import annotations

import signal
import subprocess

from tests.integration.runner.harness import DAG_ID, RUN_ID, SQLITE_ONLY, TRADEWIND, RunnerEnv
from tests.waiting import wait_for


@SQLITE_ONLY
def test_follow_from_queued_until_the_try_ends(runner_env: RunnerEnv) -> None:
    runner_env.queue("waiter")
    # Started before the try runs: there is no log file yet, so the follower must wait for it.
    follower = subprocess.Popen(
        [TRADEWIND, "tasks", "logs", DAG_ID, "waiter", RUN_ID, "--follow"],
        env=runner_env.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runner = runner_env.start("waiter")
    try:
        wait_for(lambda: runner_env.marker_lines("waiter") == ["started"], what="the waiter to start")
        assert follower.poll() is None  # still following a running try
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(30) == 1
        out, err = follower.communicate(timeout=30)
    finally:
        for process in (runner, follower):
            if process.poll() is None:
                process.kill()
    assert follower.returncode == 0, err
    assert out == runner_env.log("waiter")
    assert "waiter started" in out
    assert "Marking task as FAILED" in out
