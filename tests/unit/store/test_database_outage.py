"""A service loop's patience with its database (scheduler, DAG processor, triggerer): transient errors are
waited out, others end the loop at once, and so does an outage longer than database.outage_timeout."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from tradewind.store.database_outage import DatabaseOutage

LOST = OperationalError("SELECT 1", None, Exception("server closed the connection unexpectedly"))


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_shorter_than_the_timeout_is_waited_out_and_ends_on_the_next_commit() -> None:
    clock = Ticks()
    outage = DatabaseOutage(give_up_after=30.0, clock=clock)
    first = outage.failed(LOST)
    clock.now += 29.0
    assert outage.failed(LOST) > 0
    assert outage.recovered() is True
    assert outage.recovered() is False
    assert outage.failed(LOST) == first, "a new outage starts from the first pause"


def test_an_outage_longer_than_the_timeout_ends_the_loop_with_the_error() -> None:
    clock = Ticks()
    outage = DatabaseOutage(give_up_after=30.0, clock=clock)
    outage.failed(LOST)
    clock.now += 30.0
    with pytest.raises(OperationalError):
        outage.failed(LOST)


def test_an_error_no_retry_can_cure_is_raised_at_once() -> None:
    outage = DatabaseOutage(give_up_after=30.0, clock=Ticks())
    with pytest.raises(IntegrityError):
        outage.failed(IntegrityError("INSERT", None, Exception("duplicate key")))
