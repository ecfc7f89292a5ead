"""Fixtures for scheduler tests: a migrated database, a frozen clock, an executor twin that records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import START, RecordingExecutor
from tradewind.config.settings import Settings, load_settings
from tradewind.core.clock import FrozenClock
from tradewind.scheduler.tick import Scheduler
from tradewind.store.engine import make_session_factory


@pytest.fixture
def sched_settings(tw_home: object) -> Settings:
    return load_settings()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def executor() -> RecordingExecutor:
    return RecordingExecutor()


@pytest.fixture
def scheduler(
    sched_settings: Settings, sessions: sessionmaker[Session], executor: RecordingExecutor, clock: FrozenClock
) -> Iterator[Scheduler]:
    yield Scheduler(
        settings=sched_settings,
        session_factory=sessions,
        executor=executor,
        job_id=None,
        monotonic=clock.monotonic,
    )


