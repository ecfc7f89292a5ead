"""A PostgreSQL server of one's own, to stop, restart, fail over and cut without touching a machine's shared
server: ``initdb`` in a folder, run as the ``postgres`` OS user (the server refuses root) on a free port.
The reliability tests and ``bench/soak.py`` inject database outages with it.

Durability is traded for speed (``fsync = off``): a clean stop still flushes everything, and a crash of the
whole machine is not what these outages model.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")

_CONFIG = (
    "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n"
)


@contextlib.contextmanager
def running_server() -> Iterator[PrivatePostgres]:
    """A started private server, destroyed (stopped, its folder removed) on the way out."""
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


def available() -> bool:
    """True where a private server can run: as root (for ``runuser``), with PostgreSQL 15's binaries and a
    ``postgres`` OS user."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return (BIN / "initdb").exists() and os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """One private server under ``root`` (a new temporary folder by default). ``url(database)`` names a
    database on it; ``start``, ``stop``, ``restart``, ``failover`` and ``cut_connections`` make outages;
    ``destroy`` stops it and removes its folder."""

    def __init__(self, root: Path | None = None) -> None:
        if not available():
            raise RuntimeError(f"a private PostgreSQL server needs root, a postgres user and {BIN}/initdb")
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="tw-private-pg-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        self.generation = 0
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self._as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.port}\n{_CONFIG}")

    @property
    def data(self) -> Path:
        """The data folder the server runs from (a new one after each ``failover``)."""
        return self.root / f"data{self.generation}"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *cmd: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True, timeout=120)

    def _pg_ctl(self, *args: str) -> None:
        self._as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args)

    def start(self) -> None:
        self._pg_ctl("start")
        self.wait_accepting()

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> float:
        """A fast restart (as ``pg_ctlcluster restart``); returns how long the server refused connections."""
        began = time.monotonic()
        self._pg_ctl("-m", "fast", "restart")
        self.wait_accepting()
        return time.monotonic() - began

    def failover(self, *, down_for: float = 0.0) -> None:
        """Stop this server and, ``down_for`` seconds after it stopped, start a copy of its data folder on the
        same port: a new primary behind a stable address (every connection clients held is gone, and the new
        ones reach another server process)."""
        self.stop()
        stopped = time.monotonic()
        old = self.data
        self.generation += 1
        shutil.copytree(old, self.data, symlinks=True)
        for path in [self.data, *self.data.rglob("*")]:
            shutil.chown(path, "postgres", "postgres")
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        time.sleep(max(0.0, down_for - (time.monotonic() - stopped)))  # the outage itself
        self.start()

    def accepting(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def wait_accepting(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.accepting():
            if time.monotonic() > deadline:
                raise TimeoutError(f"private PostgreSQL on port {self.port} not accepting after {timeout:.0f} s")
            time.sleep(0.1)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def cut_connections(self, database: str) -> int:
        """Terminate every session on ``database`` (as a proxy or an operator would); returns how many."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
        return sum(1 for (done,) in rows if done)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
