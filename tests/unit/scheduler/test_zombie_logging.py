"""A zombie's failure is told (logged, and the heartbeat watch stops counting the try) only once the
transaction that failed it commits: a rolled-back one failed nothing, and the try is still found dead by the
next check, at once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_clock_steps import _running
from tests.unit.scheduler.test_tick import states
from tests.unit.scheduler.twins import RecordingExecutor
from tradewind.core.clock import FrozenClock
from tradewind.core.states import TaskInstanceState
from tradewind.scheduler.tick import Scheduler
from tradewind.scheduler.zombies import fail_zombies
from tradewind.store.engine import transaction


class _RolledBack(Exception):
    pass


def _zombie_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "zombie: no heartbeat" in r.getMessage()]


def test_a_rolled_back_zombie_check_logs_no_failure_and_the_next_one_fails_the_try(
    sessions: sessionmaker[Session],
    scheduler: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run_id, _workload = _running(sessions, scheduler, executor, clock)
    scheduler.housekeeping(clock.now())
    clock.advance(timedelta(seconds=scheduler.settings.scheduler.zombie_threshold))
    caplog.set_level(logging.INFO, logger="tradewind")

    with pytest.raises(_RolledBack), transaction(sessions) as session:
        failed = fail_zombies(
            session=session, cache=scheduler.cache, now=clock.now(), watch=scheduler.heartbeats
        )
        assert len(failed) == 1
        raise _RolledBack  # the commit never happens (a database outage, say)
    assert _zombie_lines(caplog) == [], "nothing was failed, so nothing may say it was"
    assert states(sessions, "z", run_id)["a"] == TaskInstanceState.RUNNING

    scheduler.housekeeping(clock.now())  # still silent for the threshold: failed now, not a threshold later
    assert states(sessions, "z", run_id)["a"] == TaskInstanceState.UP_FOR_RETRY
    [line] = _zombie_lines(caplog)
    assert line.startswith(f"z.a ({run_id}) try 1: zombie")
