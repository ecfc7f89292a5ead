"""execution_timeout interrupts the main thread with a BaseException `except Exception` cannot swallow, and
keeps an alarm that was set before it (by task code, an outer timeout, a test runner)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import pytest

from tests.waiting import wait_for
from tradewind.runner.execution import Ending, execute_task
from tradewind.runner.interrupts import ExecutionTimeout, execution_timeout
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG


@pytest.fixture(autouse=True)
def _alarm_left_as_found() -> Iterator[None]:
    """Put back the alarm these tests replace (pytest-timeout's, when it uses signals), minus the time spent."""
    handler = signal.getsignal(signal.SIGALRM)
    remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, handler if handler is not None else signal.SIG_DFL)
    if remaining > 0:
        signal.setitimer(signal.ITIMER_REAL, max(remaining - (time.monotonic() - started), 0.01), interval)


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


class _OuterAlarm:
    """An alarm set before the task runs, as task code or an outer timeout would: records when it fires."""

    def __init__(self, seconds: float, interval: float = 0.0) -> None:
        self.fired: list[float] = []
        signal.signal(signal.SIGALRM, self.handler)
        self.set_at = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, seconds, interval)

    def handler(self, _signum: int, _frame: FrameType | None) -> None:
        self.fired.append(time.monotonic())


class _Sleeps(BaseOperator):
    def __init__(self, *, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds

    def execute(self, context: Any) -> str:
        time.sleep(self.seconds)
        return "done"


def _run(task: BaseOperator) -> Any:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    DAG(f"dag_{id(task)}", schedule=None, start_date=moment).add_task(task)
    context = dict(build_context(task=task, run_id="r", logical_date=moment, try_number=1))
    return execute_task(task, context, push_xcom=lambda k, v: None, log=logging.getLogger("test"))


def test_an_alarm_set_before_a_task_with_execution_timeout_still_fires_after_it() -> None:
    outer = _OuterAlarm(3.0)
    result = _run(_Sleeps(task_id="quick", seconds=0, execution_timeout=60))
    ended = time.monotonic()
    assert result.ending is Ending.SUCCESS
    assert signal.getsignal(signal.SIGALRM) == outer.handler
    remaining, _interval = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < remaining <= 3.0 - (ended - outer.set_at) + 0.05  # the time the task took is taken off
    wait_for(lambda: outer.fired, timeout=30, what="the outer alarm to fire after the task")
    assert outer.fired[0] - outer.set_at >= 2.9  # when it was due, not earlier


def test_the_execution_timeout_still_interrupts_a_task_with_an_outer_alarm_set() -> None:
    outer = _OuterAlarm(120.0)
    started = time.monotonic()
    result = _run(_Sleeps(task_id="slow", seconds=60, execution_timeout=0.3))
    assert result.ending is Ending.FAILED
    assert isinstance(result.error, ExecutionTimeout) and result.error.seconds == 0.3
    assert time.monotonic() - started < 30
    assert outer.fired == []
    assert signal.getsignal(signal.SIGALRM) == outer.handler
    remaining, _interval = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < remaining <= 120.0 - 0.3  # still armed, for what was left of it


def test_an_outer_alarm_due_during_the_block_fires_at_its_time() -> None:
    outer = _OuterAlarm(0.2)
    with execution_timeout(60):
        wait_for(lambda: outer.fired, timeout=30, what="the outer alarm to fire inside the block")
    assert outer.fired[0] - outer.set_at >= 0.19
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # delivered once, and our timeout disarmed
    assert signal.getsignal(signal.SIGALRM) == outer.handler


def test_a_periodic_outer_alarm_keeps_its_interval() -> None:
    outer = _OuterAlarm(30.0, interval=7.0)
    with execution_timeout(60):
        pass
    remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < remaining <= 30.0 and interval == 7.0
    assert outer.fired == []


def test_nested_timeouts_the_outer_one_still_interrupts_and_the_inner_one_too() -> None:
    outer = _OuterAlarm(120.0)
    started = time.monotonic()
    with pytest.raises(ExecutionTimeout) as outer_info, execution_timeout(0.5):
        with pytest.raises(ExecutionTimeout) as inner_info, execution_timeout(0.2):
            time.sleep(30)
        assert inner_info.value.seconds == 0.2
        with execution_timeout(60):
            time.sleep(30)  # the outer 0.5 s ends this, not the inner 60 s
    assert outer_info.value.seconds == 0.5
    assert time.monotonic() - started < 20
    assert signal.getsignal(signal.SIGALRM) == outer.handler and outer.fired == []
    assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 120.0 - 0.5
