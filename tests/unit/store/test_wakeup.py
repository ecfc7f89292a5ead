"""The wake-up signal (ADR 0012): a committed ring wakes the listeners of its channel in another process, a
rolled-back one never does, and a listener that died leaves nothing that blocks a ring."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.wakeup import (
    DAG_CALLBACKS,
    SCHEDULER,
    TRIGGERER,
    WakeUp,
    ring,
    socket_folder,
)

RING_FROM_ANOTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from tradewind.store.engine import make_engine, make_session_factory, transaction
    from tradewind.store.wakeup import ring

    engine = make_engine(sys.argv[1])
    with transaction(make_session_factory(engine)) as session:
        ring(session, sys.argv[2])
    engine.dispose()
    """
)


def _ring_elsewhere(url: str, channel: str) -> None:
    subprocess.run([sys.executable, "-c", RING_FROM_ANOTHER_PROCESS, url, channel], check=True, timeout=60)


def test_a_committed_ring_from_another_process_wakes_the_listeners_of_its_channel_only(
    migrated_engine: Engine,
) -> None:
    url = migrated_engine.url.render_as_string(hide_password=False)
    scheduler, other_scheduler, triggerer = (
        WakeUp(url, SCHEDULER),
        WakeUp(url, SCHEDULER),
        WakeUp(url, TRIGGERER),
    )
    try:
        _ring_elsewhere(url, SCHEDULER)
        # Generous deadlines: a ring is delivered at once; waiting longer only shows nothing else came.
        assert scheduler.wait(20) and other_scheduler.wait(20)  # two schedulers (HA) both wake
        assert not triggerer.wait(0.3)
        assert not scheduler.wait(0.3)  # one ring wakes once
    finally:
        for wake in (scheduler, other_scheduler, triggerer):
            wake.close()


def test_a_rolled_back_write_does_not_ring(migrated_engine: Engine) -> None:
    url = migrated_engine.url.render_as_string(hide_password=False)
    factory = make_session_factory(migrated_engine)
    wake = WakeUp(url, DAG_CALLBACKS)
    try:
        with pytest.raises(RuntimeError), transaction(factory) as session:
            ring(session, DAG_CALLBACKS)
            raise RuntimeError("the write failed")
        assert not wake.wait(0.5)
        with transaction(factory) as session:
            ring(session, DAG_CALLBACKS)
        assert wake.wait(20)
    finally:
        wake.close()


def test_set_wakes_the_waiting_thread_and_a_stop_event_does_too() -> None:
    wake = WakeUp(None)
    stop = threading.Event()
    try:
        wake.set()
        assert wake.wait(20)
        wake.set_when(stop)
        stop.set()
        assert wake.wait(20)
    finally:
        wake.close()


def test_a_dead_listener_s_socket_is_removed_by_the_next_ring(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    url = migrated_engine.url.render_as_string(hide_password=False)
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps no sockets: its server drops a dead listener")
    folder = socket_folder(url, SCHEDULER)
    assert folder is not None
    code = f"from tradewind.store.wakeup import WakeUp; WakeUp({url!r}); import os; os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # exits without closing
    assert len(list(folder.iterdir())) == 1
    _ring_elsewhere(url, SCHEDULER)
    assert list(folder.iterdir()) == []


def test_a_long_database_path_puts_the_sockets_in_the_temporary_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "tradewind.db"
    folder = socket_folder(f"sqlite:///{deep}", SCHEDULER)
    assert folder is not None and len(str(folder)) < 90
    assert folder != socket_folder(f"sqlite:///{deep}.other", SCHEDULER)
    assert socket_folder("postgresql+psycopg://u@h/db", SCHEDULER) is None
