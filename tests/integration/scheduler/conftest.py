"""Fixtures that run the real scheduler (LocalExecutor, runner processes) against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.migrated_databases import migrate_database
from tests.waiting import wait_for
from tests.warm_cli import TRADEWIND as TRADEWIND  # re-exported: the tests importing it from here
from tests.warm_cli import WarmProcess, run_tradewind, start_tradewind
from tradewind.config.settings import Settings, load_settings
from tradewind.core.states import FINISHED_DAG_RUN_STATES
from tradewind.store import dag_runs, jobs
from tradewind.store.engine import make_engine, make_session_factory

#: A started service: a ``subprocess.Popen`` or the warm CLI's stand-in for one.
Service = subprocess.Popen[bytes] | WarmProcess


class Deployment:
    """A TRADEWIND_HOME with a DAG folder and database, and helpers to drive real `tradewind` processes."""

    def __init__(self, home: Path, db_url: str) -> None:
        self.home = home
        self.dags = home / "dags"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
            "TRADEWIND_HOME": str(home),
            "TRADEWIND__DATABASE__URL": db_url,
            "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "TRADEWIND__CORE__PARALLELISM": "4",
            "TRADEWIND__SCHEDULER__HEARTBEAT_INTERVAL": "1",
        }
        self.procs: list[Service] = []
        migrate_database(db_url)
        self.engine = make_engine(db_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)

    def settings(self) -> Settings:
        old = dict(os.environ)
        os.environ.update(self.env)
        try:
            return load_settings()
        finally:
            os.environ.clear()
            os.environ.update(old)

    def write_dag(self, name: str, source: str) -> Path:
        path = self.dags / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    def tw(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """A `tradewind` command, as its own process (forked from a warm CLI: ``tests.warm_cli``)."""
        return run_tradewind(list(args), env=self.env, check=check, timeout=timeout)

    def parse(self) -> None:
        self.tw("dag-processor", "--once", check=False)

    def start(self, *args: str, log_name: str = "scheduler", cold: bool = False) -> Service:
        """A long-running `tradewind` command (forked from a warm CLI: ``tests.warm_cli``; ``cold``: its own
        interpreter, for a test of what a process was started with), its output appended to
        ``<home>/<log_name>.log``, stopped by ``stop_all``."""
        proc = start_tradewind(list(args), env=self.env, log=self.home / f"{log_name}.log", cold=cold)
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> Service:
        proc = self.start("scheduler")
        wait_for(lambda: self._scheduler_running(proc.pid), timeout=30, what="scheduler job registered")
        return proc

    def _scheduler_running(self, pid: int) -> bool:
        with self.sessions() as session:
            return any(j.pid == pid for j in jobs.alive_jobs(session=session, job_type="scheduler",
                                                               threshold_seconds=60, now=_now()))

    def run_state(self, dag_id: str, run_id: str) -> str:
        with self.sessions() as session:
            return dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id).state

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 60) -> str:
        wait_for(lambda: self.run_state(dag_id, run_id) in FINISHED_DAG_RUN_STATES, timeout=timeout,
                   what=f"run {run_id} of {dag_id} to finish", details=self.dump_logs)
        return self.run_state(dag_id, run_id)

    def dump_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-5000:] for p in self.home.glob("*.log"))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.engine.dispose()


def _now():  # type: ignore[no-untyped-def]
    from tradewind.core.clock import utcnow

    return utcnow()


@pytest.fixture
def deployment(tw_home: Path, db_url: str) -> Iterator[Deployment]:
    dep = Deployment(tw_home, db_url)
    try:
        yield dep
    finally:
        dep.stop_all()
