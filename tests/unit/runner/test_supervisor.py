"""The supervisor heartbeats a try and turns SIGTERM into TaskTerminated, only inside user code."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from tests.waiting import wait_for
from tradewind.runner.interrupts import TaskTerminated
from tradewind.runner.supervisor import Supervisor

log = logging.getLogger("test.supervisor")


def test_heartbeat_is_called_periodically_while_the_try_is_ours() -> None:
    beats = threading.Semaphore(0)

    def heartbeat() -> str | None:
        beats.release()
        return None

    with Supervisor(heartbeat=heartbeat, interval=0.02, log=log) as supervisor:
        for _ in range(3):
            assert beats.acquire(timeout=5)
    assert supervisor.external_state is None


def test_external_state_change_terminates_user_code(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def heartbeat() -> str | None:
        nonlocal calls
        calls += 1
        return None if calls < 2 else "none"

    caplog.set_level(logging.WARNING)
    supervisor = Supervisor(heartbeat=heartbeat, interval=0.02, log=log)
    with supervisor, pytest.raises(TaskTerminated) as info, supervisor.user_code():
        time.sleep(5)
    assert supervisor.external_state == "none"
    assert info.value.reason == "state externally set to none"
    assert "state externally set to none; terminating" in caplog.text


def test_sigterm_outside_user_code_is_deferred_until_user_code_starts() -> None:
    supervisor = Supervisor(heartbeat=lambda: None, interval=60, log=log)
    with supervisor:
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for(lambda: supervisor.terminating, what="SIGTERM noticed", timeout=5)
        # The runner's own work goes on; the signal is raised when user code would start.
        with pytest.raises(TaskTerminated, match="terminated by SIGTERM"), supervisor.user_code():
            raise AssertionError("user code must not start after SIGTERM")


def test_sigterm_is_raised_once_so_on_kill_is_not_interrupted() -> None:
    supervisor = Supervisor(heartbeat=lambda: None, interval=60, log=log)
    with supervisor:
        with pytest.raises(TaskTerminated), supervisor.user_code():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        with supervisor.user_code():  # e.g. on_kill: a second SIGTERM only records
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)


def test_handlers_are_restored_after_stop() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with Supervisor(heartbeat=lambda: None, interval=60, log=log):
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_failing_heartbeat_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def heartbeat() -> str | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database is locked")
        return None

    caplog.set_level(logging.WARNING)
    with Supervisor(heartbeat=heartbeat, interval=0.02, log=log) as supervisor:
        wait_for(lambda: calls >= 3, what="three heartbeats", timeout=5)
    assert not supervisor.terminating
    assert "heartbeat failed: database is locked" in caplog.text
