"""The wake-up signal (ADR 0012): a write that makes work for a service rings its channel; the sleeping
service (the scheduler, a triggerer, the DAG processor's callback thread) listens instead of polling.

PostgreSQL: ``ring`` sends ``NOTIFY tradewind_<channel>`` in the writing transaction (delivered at commit,
dropped on rollback); a ``WakeUp`` LISTENs on a connection of its own (psycopg 3). SQLite: after the commit,
``ring`` sends a datagram to every listener's Unix socket in a folder beside the database file
(``<file>-wake/<channel>/``, like SQLite's own ``-wal``), so it works across the processes of one machine.
A ring that is lost (a dropped connection, a full socket buffer, a listener that was restarting) costs only
latency: the listener's next safety poll finds the work.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import selectors
import socket
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

#: Who is woken: each listener listens on one channel, each ring names one, so a busy system's rings for
#: the scheduler (every ended try) never wake the triggerer or the DAG callbacks.
SCHEDULER = "scheduler"
TRIGGERER = "triggerer"
DAG_CALLBACKS = "dag_callbacks"
DAG_PROCESSOR = "dag_processor"
CHANNELS = (SCHEDULER, TRIGGERER, DAG_CALLBACKS, DAG_PROCESSOR)
#: PostgreSQL channel names are this and the channel.
PG_CHANNEL_PREFIX = "tradewind_"
#: Longest path a Unix socket address takes on Linux (108 bytes with its NUL).
_MAX_SOCKET_PATH = 100
#: session.info key: this transaction rings when it commits (SQLite).
_RINGS_ON_COMMIT = "tradewind.wakeup.rings"
#: How long a listener whose PostgreSQL connection broke waits before it connects again.
_RECONNECT_SECONDS = 5.0


def ring(session: Session, channel: str = SCHEDULER) -> None:
    """Wake the listeners of ``channel`` once this transaction commits: call it in every write that makes
    work for them (a run triggered, tries cleared or ended, a DAG unpaused, a trigger created or fired)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown wake-up channel {channel!r}")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Delivered at commit, dropped on rollback; several in one transaction are delivered as one.
        session.execute(text(f"NOTIFY {PG_CHANNEL_PREFIX}{channel}"))
        return
    folder = socket_folder(bind.engine.url, channel)
    pending: set[str] = session.info.setdefault(_RINGS_ON_COMMIT, set())
    if folder is None or channel in pending:
        return
    pending.add(channel)
    event.listen(session, "after_commit", partial(_ring_after_commit, folder, channel), once=True)


def ring_now(factory: sessionmaker[Session], channel: str = SCHEDULER) -> None:
    """Ring for changes already committed (the DAG processor, after a pass stored several batches)."""
    with factory() as session:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            session.execute(text(f"NOTIFY {PG_CHANNEL_PREFIX}{channel}"))
            session.commit()
        elif (folder := socket_folder(bind.engine.url, channel)) is not None:
            ring_folder(folder)


def _ring_after_commit(folder: Path, channel: str, session: Session) -> None:
    session.info.get(_RINGS_ON_COMMIT, set()).discard(channel)
    ring_folder(folder)


def ring_folder(folder: Path) -> None:
    """Send one datagram to every listener's socket in ``folder`` (SQLite); never blocks, never raises."""
    try:
        names = os.listdir(folder)
    except OSError:
        return  # nobody has listened on this database yet
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in names:
            path = folder / name
            try:
                sender.sendto(b"!", str(path))
            except ConnectionRefusedError:
                with contextlib.suppress(OSError):
                    path.unlink()  # its listener died without cleaning up
            except OSError:
                continue  # a full buffer: it has been rung already and not woken yet


def socket_folder(url: str | URL, channel: str) -> Path | None:
    """Where the listeners of ``channel`` on a SQLite database put their sockets (None: not a SQLite file,
    so no ring crosses processes). Beside the database file, or in the temporary folder when that path is
    too long for a socket address."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database)
    folder = Path(path + "-wake") / channel
    if len(str(folder)) + 24 > _MAX_SOCKET_PATH:
        digest = hashlib.sha256(path.encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"tradewind-wake-{os.getuid()}" / digest / channel
    return folder


class WakeUp:
    """What a service sleeps on: rings from other processes (``ring``) and ``set`` from its own threads.

    ``wait(timeout)`` returns True when woken (and takes every pending ring), False when the time was up.
    A ring that comes while the service works is kept, so the next ``wait`` returns at once. ``rung`` then
    says whether another process rang (or the listening connection broke), as opposed to ``set`` alone.
    """

    #: Whether the last ``wait`` was ended by a ring from another process (or a broken listener) rather than
    #: by ``set`` alone or the timeout.
    rung: bool = False

    def __init__(self, database_url: str | None, channel: str = SCHEDULER) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown wake-up channel {channel!r}")
        self._selector = selectors.DefaultSelector()
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._selector.register(self._reader, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._datagrams: socket.socket | None = None
        self._socket_path: Path | None = None
        self._postgres: _PostgresListener | None = None
        if database_url is not None:
            parsed = make_url(database_url)
            if parsed.get_backend_name() == "postgresql":
                self._postgres = _PostgresListener(parsed, PG_CHANNEL_PREFIX + channel, self._selector)
                self._postgres.ensure_listening()  # now: a ring before the first wait must not be missed
            elif (folder := socket_folder(parsed, channel)) is not None:
                self._listen_on(folder)

    def _listen_on(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"{os.getpid()}-{threading.get_ident() % 100000}-{id(self) % 100000}"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        datagrams = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        datagrams.setblocking(False)
        datagrams.bind(str(path))
        self._datagrams, self._socket_path = datagrams, path
        self._selector.register(datagrams, selectors.EVENT_READ)

    def set_when(self, stop: threading.Event) -> None:
        """Wake the waiting thread when ``stop`` is set (a daemon thread waits for it)."""

        def wait_for_stop() -> None:
            stop.wait()
            self.set()

        threading.Thread(target=wait_for_stop, name="wake-on-stop", daemon=True).start()

    def set(self) -> None:
        """Wake the waiting thread (from any thread, a signal handler included)."""
        with contextlib.suppress(OSError):  # a full pipe is already set
            self._writer.send(b"!")

    def wait(self, timeout: float | None) -> bool:
        if self._postgres is not None:
            self._postgres.ensure_listening()
            if not self._postgres.listening and (timeout is None or timeout > _RECONNECT_SECONDS):
                timeout = _RECONNECT_SECONDS
        with self._lock:
            ready = self._selector.select(timeout)
            woken = rung = False
            for key, _mask in ready:
                if key.fileobj is self._reader:
                    woken |= _drain(key.fileobj)
                elif key.fileobj is self._datagrams:
                    rung |= _drain(key.fileobj)
                elif self._postgres is not None:
                    rung |= self._postgres.take()
            # Ready but nothing taken (a listener that broke): counted as a ring, the safe side.
            self.rung = rung or (bool(ready) and not woken)
            return woken or self.rung

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()
        if self._datagrams is not None:
            self._datagrams.close()
        if self._socket_path is not None:
            with contextlib.suppress(OSError):
                self._socket_path.unlink()
        self._selector.close()
        self._reader.close()
        self._writer.close()


def _drain(sock: socket.socket) -> bool:
    taken = False
    while True:
        try:
            if not sock.recv(4096):
                return taken
        except OSError:
            return taken
        taken = True


class _PostgresListener:
    """A connection of its own that LISTENs on one channel; connected again when it breaks."""

    def __init__(self, url: URL, channel: str, selector: selectors.BaseSelector) -> None:
        self._channel = channel
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._selector = selector
        self._conn: Any = None
        self._fd: int | None = None
        self._failed_at: float | None = None
        self.listening = False

    def ensure_listening(self) -> None:
        if self.listening:
            return
        import psycopg  # the postgres extra: only a listener on PostgreSQL needs it

        if self._failed_at is not None and time.monotonic() - self._failed_at < _RECONNECT_SECONDS:
            return
        try:
            self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
            self._conn.execute(f"LISTEN {self._channel}")
        except psycopg.Error as exc:
            log.warning("cannot LISTEN for wake-ups (%s); polling until the database answers", exc)
            self._failed_at = time.monotonic()
            self._close_conn()
            return
        self._failed_at = None
        self._fd = self._conn.fileno()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self.listening = True

    def take(self) -> bool:
        """Consume the notifications that arrived; a broken connection counts as a wake-up (work may have
        been missed while it was down)."""
        import psycopg

        try:
            for _notify in self._conn.notifies(timeout=0):
                pass
        except psycopg.Error as exc:
            log.warning("the wake-up connection broke (%s); connecting again", exc)
            self._close_conn()
        return True

    def _close_conn(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(self._fd)
            self._fd = None
        self.listening = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def close(self) -> None:
        self._close_conn()
