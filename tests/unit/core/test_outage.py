"""The one backoff policy: pauses double to a ceiling, the window bounds the whole wait, and only errors the
caller calls retryable are waited out."""

from __future__ import annotations

import pytest

from tradewind.core.outage import MAX_PAUSE, Outage, retry_through_outage


class Ticks:
    """A monotonic clock the test moves; ``sleep`` moves it as a real sleep would."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Flaky(Exception):
    pass


def test_pauses_grow_to_a_ceiling_and_start_over_once_it_recovers() -> None:
    clock = Ticks()
    outage = Outage(300.0, clock=clock)
    pauses = [outage.failed() for _ in range(10)]
    assert pauses == sorted(pauses) and pauses[0] == 0.1 and pauses[-1] == MAX_PAUSE  # type: ignore[type-var]
    assert outage.recovered() == 10
    assert outage.failed() == 0.1


def test_the_window_bounds_the_wait_and_the_last_pause_ends_at_its_end() -> None:
    clock = Ticks()
    outage = Outage(1.0, clock=clock)
    assert outage.failed() == 0.1
    clock.now += 0.95
    assert outage.failed() == pytest.approx(0.05), "not past the window's end"
    clock.now += 0.05
    assert outage.failed() is None


def test_a_call_is_retried_through_a_retryable_error_until_it_answers() -> None:
    clock = Ticks()
    answers = iter([Flaky("down"), Flaky("down"), "ok"])

    def work() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    told: list[int] = []
    result = retry_through_outage(
        work, window=60.0, retryable=lambda exc: isinstance(exc, Flaky), clock=clock, sleep=clock.sleep,
        on_retry=lambda _exc, _pause, failures: told.append(failures),
    )  # fmt: skip
    assert result == "ok" and told == [1, 2]
    assert 0.05 <= clock.slept[0] <= 0.1 and 0.1 <= clock.slept[1] <= 0.2, (
        "jittered, half to all of the pause"
    )


def test_an_outage_longer_than_the_window_raises_the_last_error() -> None:
    clock = Ticks()
    calls = 0

    def work() -> None:
        nonlocal calls
        calls += 1
        raise Flaky(f"down {calls}")

    with pytest.raises(Flaky) as raised:
        retry_through_outage(work, window=10.0, retryable=lambda _e: True, clock=clock, sleep=clock.sleep)
    assert str(raised.value) == f"down {calls}" and calls > 3
    assert clock.now - 100.0 <= 10.0 + 1e-9, "no pause past the window"


def test_an_error_no_retry_can_cure_is_raised_at_once() -> None:
    calls = 0

    def work() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        retry_through_outage(work, window=60.0, retryable=lambda exc: isinstance(exc, Flaky))
    assert calls == 1
