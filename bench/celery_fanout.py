"""Benchmark (issue 6): 200 independent no-op tasks, scheduler + 2 Celery workers x concurrency 4, against the
LocalExecutor with the same 8 slots, in the same run.

    .venv/bin/python bench/celery_fanout.py [--tasks 200] [--repeat 1] [--postgres] [--broker URL]

Wall time is from `tradewind dags trigger` to the run's success, measured by polling the database. Both
set-ups use fresh TRADEWIND_HOMEs with the DAG already parsed and the scheduler (and workers) already up.
The Celery broker defaults to Redis DB 5 on 127.0.0.1 with queue names unique to this run; only this run's
keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis
from sqlalchemy import create_engine, text

TRADEWIND = str(Path(sys.executable).parent / "tradewind")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

FANOUT_DAG = """
from datetime import datetime
from tradewind import DAG, PythonOperator

def noop():
    return None

with DAG("celery_fanout", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    for i in range({n}):
        PythonOperator(task_id=f"t{{i}}", python_callable=noop, do_xcom_push=False)
"""


class Setup:
    """A fresh home and database with the fan-out DAG parsed; processes started with ``spawn``."""

    def __init__(self, *, n: int, postgres: bool, extra_env: dict[str, str]) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="tw-celery-bench-"))
        self.home = self.tmp / "home"
        (self.home / "dags").mkdir(parents=True)
        self.pg_db: str | None = None
        if postgres:
            self.pg_db = f"tw_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_db}"')
            self.db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.pg_db}"
        else:
            self.db_url = f"sqlite:///{self.home / 'tradewind.db'}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
            "TRADEWIND_HOME": str(self.home),
            "TRADEWIND__DATABASE__URL": self.db_url,
            "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "TRADEWIND__CORE__PARALLELISM": "8",
            "TRADEWIND__LOGGING__LEVEL": "WARNING",
            **extra_env,
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        (self.home / "dags" / "celery_fanout.py").write_text(FANOUT_DAG.format(n=n))
        self.tw("db", "migrate")
        self.tw("dag-processor", "--once")
        self.engine = create_engine(self.db_url.replace("postgresql://", "postgresql+psycopg://"))

    def tw(self, *args: str) -> str:
        done = subprocess.run([TRADEWIND, *args], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"`tradewind {' '.join(args)}` failed:\n{done.stderr}")
        return done.stdout

    def spawn(self, *args: str) -> None:
        log = open(self.tmp / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(
            [TRADEWIND, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)

    def run_state(self, run_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT state FROM dag_run WHERE run_id = :r"), {"r": run_id}).scalar()

    def trigger_and_wait(self, timeout: float = 600) -> float:
        start = time.perf_counter()
        run_id = self.tw("dags", "trigger", "celery_fanout").strip()
        deadline = time.monotonic() + timeout
        while (state := self.run_state(run_id)) not in ("success", "failed"):
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run_id} did not finish in {timeout}s; logs in {self.tmp}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        if state != "success":
            raise SystemExit(f"run {run_id} ended {state}; logs in {self.tmp}")
        return elapsed

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.engine.dispose()
        if self.pg_db:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_until_ready(setup: Setup, seconds: float) -> None:
    """Give the scheduler (and workers) time to start; the run's clock starts only at the trigger."""
    time.sleep(seconds)
    for proc in setup.procs:
        if proc.poll() is not None:
            raise SystemExit(f"a process exited early ({proc.args!r}); logs in {setup.tmp}")


def bench_local(n: int, postgres: bool, repeat: int) -> list[float]:
    setup = Setup(n=n, postgres=postgres, extra_env={"TRADEWIND__CORE__EXECUTOR": "local"})
    try:
        setup.spawn("scheduler")
        wait_until_ready(setup, 3)
        return [setup.trigger_and_wait() for _ in range(repeat)]
    finally:
        setup.close()


def bench_celery(n: int, postgres: bool, repeat: int, broker: str) -> list[float]:
    token = uuid.uuid4().hex[:10]
    queue = f"tw-bench-{token}"
    setup = Setup(n=n, postgres=postgres, extra_env={
        "TRADEWIND__CORE__EXECUTOR": "celery",
        "TRADEWIND__CELERY__BROKER_URL": broker,
        "TRADEWIND__CELERY__DEFAULT_QUEUE": queue,
    })
    try:
        for i in range(2):
            setup.spawn("celery", "worker", "--concurrency", "4", "--hostname", f"bench{i}-{token}@localhost",
                        "--loglevel", "WARNING")
        setup.spawn("scheduler")
        wait_until_ready(setup, 6)
        return [setup.trigger_and_wait() for _ in range(repeat)]
    finally:
        setup.close()
        if broker.startswith("redis"):
            client = redis.Redis.from_url(broker)
            for key in client.scan_iter(match=f"*{token}*"):
                client.delete(key)
            for key in client.scan_iter(match="celery-task-meta-*"):
                value = client.get(key)
                if value is not None and b"celery_fanout" in value:
                    client.delete(key)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/5")
    args = parser.parse_args()

    local = bench_local(args.tasks, args.postgres, args.repeat)
    celery = bench_celery(args.tasks, args.postgres, args.repeat, args.broker)
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {db}")
    results = (("local executor, parallelism 8", local), ("celery, 2 workers x concurrency 4", celery))
    for name, times in results:
        per_task = statistics.median(times) / args.tasks * 1000
        print(f"{args.tasks} no-op tasks, {name}: median {statistics.median(times):.2f} s "
              f"({per_task:.1f} ms/task) over {len(times)} run(s): {', '.join(f'{t:.2f}' for t in times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
