"""A service's first use of the database, at its start: waited for through an outage with one log line that
names the server but never the password, and given up at the window's end with an error naming the
setting. The waits that end well are tested against a real server in
tests/integration/store/test_services_start_during_outage.py."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from tradewind.store.database_wait import DatabaseUnavailableError, wait_for_database
from tradewind.store.engine import make_engine

PASSWORD = "never-printed-91c2"


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port of 127.0.0.1 bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_a_server_that_never_answers_is_given_up_at_the_window_naming_the_setting(
    refusing_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"postgresql://tw:{PASSWORD}@127.0.0.1:{refusing_port}/tw")
    caplog.set_level(logging.INFO, logger="tradewind")
    attempts = 0

    def first_query() -> None:
        nonlocal attempts
        attempts += 1
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        with pytest.raises(DatabaseUnavailableError) as raised:
            wait_for_database(engine, first_query, window=0.6, what="the scheduler")
    finally:
        engine.dispose()
    message = str(raised.value)
    assert "database.outage_timeout" in message and f"127.0.0.1:{refusing_port}/tw" in message
    assert attempts > 1, "it tried again within the window"
    lines = [r.getMessage() for r in caplog.records]
    waiting = [line for line in lines if "is waiting for the metadata database" in line]
    assert len(waiting) == 1 and waiting[0].startswith("the scheduler is waiting"), lines
    assert f"127.0.0.1:{refusing_port}/tw" in waiting[0]
    assert not [line for line in [message, *lines] if PASSWORD in line]


def test_sqlite_is_not_waited_for_and_a_real_error_is_raised_at_once(tmp_path: Path) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'tw.db'}")
    attempts = 0

    def broken() -> None:
        nonlocal attempts
        attempts += 1
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(OperationalError):
            wait_for_database(engine, broken, window=30, what="`tradewind standalone`")
    finally:
        engine.dispose()
    assert attempts == 1
