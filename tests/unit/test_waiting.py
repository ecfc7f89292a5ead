"""The suite's one wait: it returns what the check found, and fails naming what it waited for."""

from __future__ import annotations

import itertools

import pytest

from tests.waiting import wait_for


def test_returns_the_first_truthy_value_the_check_gives() -> None:
    counter = itertools.count()
    assert wait_for(lambda: next(counter) >= 3 and "ready", what="the third poll", interval=0) == "ready"


def test_fails_after_the_deadline_naming_what_and_the_last_value_and_details() -> None:
    with pytest.raises(AssertionError) as info:
        wait_for(lambda: [], what="a row", timeout=0.05, interval=0.01, details=lambda: "server log")
    assert "waiting for a row; last: []" in str(info.value)
    assert str(info.value).endswith("\nserver log")


def test_ignored_errors_mean_not_yet_and_others_fail_at_once() -> None:
    calls = itertools.count()

    def starting() -> str:
        if next(calls) < 2:
            raise ConnectionError("refused")
        return "up"

    assert wait_for(starting, what="the server", ignoring=(ConnectionError,), interval=0) == "up"
    with pytest.raises(ZeroDivisionError):
        wait_for(lambda: 1 / 0, what="never", timeout=5)
