"""The scheduler loop's patience with its database: transient errors are waited out with growing pauses,
others end the loop at once, and so does an outage longer than the liveness threshold."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from tradewind.scheduler.db_outage import MAX_PAUSE, DatabaseOutage

LOST = OperationalError("SELECT 1", None, Exception("server closed the connection unexpectedly"))


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pauses_grow_to_a_ceiling_and_reset_once_the_database_answers() -> None:
    clock = Ticks()
    outage = DatabaseOutage(give_up_after=30.0, clock=clock)
    pauses = [outage.failed(LOST) for _ in range(8)]
    assert pauses == sorted(pauses) and pauses[0] < 1.0 and pauses[-1] == MAX_PAUSE
    outage.recovered()
    assert outage.failed(LOST) == pauses[0]


def test_an_outage_longer_than_the_threshold_ends_the_loop_with_the_error() -> None:
    clock = Ticks()
    outage = DatabaseOutage(give_up_after=30.0, clock=clock)
    outage.failed(LOST)
    clock.now += 29.0
    outage.failed(LOST)
    clock.now += 1.0
    with pytest.raises(OperationalError):
        outage.failed(LOST)


def test_an_error_no_retry_can_cure_is_raised_at_once() -> None:
    outage = DatabaseOutage(give_up_after=30.0, clock=Ticks())
    with pytest.raises(IntegrityError):
        outage.failed(IntegrityError("INSERT", None, Exception("duplicate key")))
