"""execution_timeout interrupts the main thread with a BaseException `except Exception` cannot swallow."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from tradewind.runner.interrupts import ExecutionTimeout, execution_timeout


def test_timeout_interrupts_a_blocking_call_even_through_except_exception() -> None:
    started = time.monotonic()
    # Task code that swallows every Exception must still stop.
    with pytest.raises(ExecutionTimeout) as info, execution_timeout(0.2), contextlib.suppress(Exception):
        time.sleep(5)
    assert time.monotonic() - started < 2
    assert info.value.seconds == 0.2
    assert "0.2s" in str(info.value)


def test_no_timeout_when_block_finishes_in_time() -> None:
    with execution_timeout(5):
        value = 1 + 1
    assert value == 2
    # The alarm was disarmed: sleeping past nothing raises nothing.
    time.sleep(0.05)


def test_no_timeout_given_is_a_no_op() -> None:
    with execution_timeout(None):
        time.sleep(0.01)


def test_outside_the_main_thread_the_block_runs_unbounded() -> None:
    outcome: list[str] = []

    def work() -> None:
        with execution_timeout(0.01):
            time.sleep(0.05)
        outcome.append("done")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert outcome == ["done"]
