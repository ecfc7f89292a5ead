"""execution_timeout interrupts the main thread with a BaseException `except Exception` cannot swallow."""

from __future__ import annotations

import contextlib
import signal
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
    handler = signal.getsignal(signal.SIGALRM)
    with execution_timeout(5):
        value = 1 + 1
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 5
    assert value == 2
    # The 5 s alarm was disarmed and the SIGALRM handler from before put back: nothing fires later.
    remaining, _interval = signal.getitimer(signal.ITIMER_REAL)
    assert not 0 < remaining <= 5
    assert signal.getsignal(signal.SIGALRM) is handler


@pytest.mark.parametrize("seconds", [None, 0, -1])
def test_no_timeout_given_leaves_the_tasks_own_alarm_alone(seconds: float | None) -> None:
    fired: list[int] = []

    def own_handler(signum: int, _frame: object) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, own_handler)
    try:
        with execution_timeout(seconds):
            # Task code that uses SIGALRM itself keeps its handler without a timeout.
            assert signal.getsignal(signal.SIGALRM) is own_handler
            signal.raise_signal(signal.SIGALRM)
        assert fired == [signal.SIGALRM]
    finally:
        signal.signal(signal.SIGALRM, previous)


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
