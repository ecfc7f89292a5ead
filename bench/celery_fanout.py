"""Benchmark (issues 6, 17): 200 independent no-op tasks, scheduler + 2 Celery workers x concurrency 4,
against the LocalExecutor with the same 8 slots, in the same run.

    .venv/bin/python bench/celery_fanout.py [--tasks 200] [--repeat 1] [--postgres] [--broker URL]
        [--only local|celery] [--src PATH]

Wall time is from `tradewind dags trigger` to the run's success, measured by polling the database. CPU is
the user + system seconds, from /proc, of every process started for the set-up (the scheduler and the Celery
workers) and all their descendants over the same span, children that ended in it included (through their
parent's cutime/cstime); printed per try and by process, as on a loaded machine wall time says little.
Both set-ups use fresh TRADEWIND_HOMEs with the DAG already parsed and the scheduler (and workers) already
up. The Celery broker defaults to Redis DB 5 on 127.0.0.1 with queue names unique to this run; only this
run's keys are deleted afterwards. ``--src`` runs another copy of the code (``PYTHONPATH``), to compare old
and new in one sitting.
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
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
from sqlalchemy import create_engine, text

TRADEWIND = str(Path(sys.executable).parent / "tradewind")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

FANOUT_DAG = """
from datetime import datetime
from tradewind import DAG, PythonOperator

def noop():
    return None

with DAG("celery_fanout", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    for i in range({n}):
        PythonOperator(task_id=f"t{{i}}", python_callable=noop, do_xcom_push=False)
"""


def _cpu(pid: int) -> tuple[float, str] | None:
    """CPU seconds of ``pid`` and the children it reaped, and a short name for it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        argv = [
            a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a
        ]
    except OSError:
        return None
    name = " ".join(Path(w).name if i == 0 else w for i, w in enumerate(argv[:4]))[:60]
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS, name


def _tree(root: int) -> list[tuple[int, int]]:
    """``(pid, depth)`` of ``root`` and its descendants."""
    found, stack = [], [(root, 0)]
    while stack:
        pid, depth = stack.pop()
        found.append((pid, depth))
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                stack += [(int(child), depth + 1) for child in children]
        except OSError:
            continue
    return found


@dataclass
class CpuSpan:
    """CPU of process trees between ``start`` and ``end``, sampled in between so a process that lives through
    part of the span only is seen (once it is reaped, its whole life is in its parent's cutime/cstime)."""

    roots: dict[int, str]
    first: dict[int, tuple[str, float]] = field(default_factory=dict)
    last: dict[int, tuple[str, str, float]] = field(default_factory=dict)

    def _snapshot(self) -> dict[int, tuple[str, str, float]]:
        found = {}
        for root, role in self.roots.items():
            for pid, depth in _tree(root):
                if (cpu := _cpu(pid)) is not None:
                    found[pid] = (role, f"{'  ' * depth}{cpu[1]}", cpu[0])
        return found

    def start(self) -> None:
        self.first = {pid: (role, cpu) for pid, (role, _, cpu) in self._snapshot().items()}
        self.last = {}

    def sample(self) -> None:
        self.last.update(self._snapshot())

    def end(self) -> dict[str, float]:
        """CPU seconds over the span by role and process name."""
        end = self._snapshot()
        self.last.update(end)
        per: dict[str, float] = {}
        for pid, (role, name, cpu) in self.last.items():
            base = self.first.get(pid, (role, 0.0))[1]
            used = cpu - base if pid in end else -base  # gone: reaped, counted in its parent
            label = f"{role}: {'(ended) ' if pid not in end else ''}{name}"
            per[label] = per.get(label, 0.0) + used
        return per


class Setup:
    """A fresh home and database with the fan-out DAG parsed; processes started with ``spawn``."""

    def __init__(self, *, n: int, postgres: bool, extra_env: dict[str, str], src: str | None) -> None:
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
        if src is not None:
            self.env["PYTHONPATH"] = src
        self.procs: list[subprocess.Popen[bytes]] = []
        self.roles: dict[int, str] = {}
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
        self.roles[proc.pid] = f"{args[0]}{len(self.procs) - 1}"

    def run_state(self, run_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT state FROM dag_run WHERE run_id = :r"), {"r": run_id}).scalar()

    def trigger_and_wait(self, timeout: float = 600) -> Result:
        cpu = CpuSpan(self.roles)
        cpu.start()
        start = time.perf_counter()
        run_id = self.tw("dags", "trigger", "celery_fanout").strip()
        deadline = time.monotonic() + timeout
        next_sample = time.monotonic() + 1.0
        while (state := self.run_state(run_id)) not in ("success", "failed"):
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run_id} did not finish in {timeout}s; logs in {self.tmp}")
            if time.monotonic() >= next_sample:
                cpu.sample()
                next_sample = time.monotonic() + 1.0
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        if state != "success":
            raise SystemExit(f"run {run_id} ended {state}; logs in {self.tmp}")
        return Result(elapsed, cpu.end())

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


@dataclass
class Result:
    wall: float
    #: CPU seconds by "role: process".
    cpu: dict[str, float]

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())


def wait_until_ready(setup: Setup, seconds: float) -> None:
    """Give the scheduler (and workers) time to start; the run's clock starts only at the trigger."""
    time.sleep(seconds)
    for proc in setup.procs:
        if proc.poll() is not None:
            raise SystemExit(f"a process exited early ({proc.args!r}); logs in {setup.tmp}")


def bench_local(n: int, postgres: bool, repeat: int, src: str | None, warm: bool) -> list[Result]:
    env = {"TRADEWIND__CORE__EXECUTOR": "local"}
    if not warm:  # every try imports its DAG file, as a Celery worker's tries do
        env["TRADEWIND__CORE__WARM_DAG_FILES"] = "0"
    setup = Setup(n=n, postgres=postgres, extra_env=env, src=src)
    try:
        setup.spawn("scheduler")
        wait_until_ready(setup, 3)
        return [setup.trigger_and_wait() for _ in range(repeat)]
    finally:
        setup.close()


def bench_celery(n: int, postgres: bool, repeat: int, broker: str, src: str | None) -> list[Result]:
    token = uuid.uuid4().hex[:10]
    queue = f"tw-bench-{token}"
    setup = Setup(
        n=n,
        postgres=postgres,
        extra_env={
            "TRADEWIND__CORE__EXECUTOR": "celery",
            "TRADEWIND__CELERY__BROKER_URL": broker,
            "TRADEWIND__CELERY__DEFAULT_QUEUE": queue,
        },
        src=src,
    )
    try:
        for i in range(2):
            setup.spawn(
                "celery",
                "worker",
                "--concurrency",
                "4",
                "--hostname",
                f"bench{i}-{token}@localhost",
                "--loglevel",
                "WARNING",
            )
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
    parser.add_argument(
        "--cold-local", action="store_true", help="the local executor without warm parents (ADR 0017)"
    )
    parser.add_argument("--only", choices=["local", "celery"], help="run one set-up only")
    parser.add_argument("--src", help="PYTHONPATH for the Tradewind processes: another copy of the code")
    args = parser.parse_args()

    results: list[tuple[str, list[Result]]] = []
    if args.only in (None, "local"):
        results.append(
            (
                "local executor, parallelism 8",
                bench_local(args.tasks, args.postgres, args.repeat, args.src, not args.cold_local),
            )
        )
    if args.only in (None, "celery"):
        celery = bench_celery(args.tasks, args.postgres, args.repeat, args.broker, args.src)
        results.append(("celery, 2 workers x concurrency 4", celery))
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {db}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for name, runs in results:
        walls = [r.wall for r in runs]
        cpus = [r.cpu_total for r in runs]
        print(
            f"{args.tasks} no-op tasks, {name}: wall median {statistics.median(walls):.2f} s "
            f"({statistics.median(walls) / args.tasks * 1000:.1f} ms/task), CPU median "
            f"{statistics.median(cpus):.2f} s ({statistics.median(cpus) / args.tasks * 1000:.1f} ms/try) "
            "over "
            f"{len(runs)} run(s): wall {', '.join(f'{w:.2f}' for w in walls)}; "
            f"CPU {', '.join(f'{c:.2f}' for c in cpus)}"
        )
        by_process: dict[str, list[float]] = {}
        for r in runs:
            for label, used in r.cpu.items():
                by_process.setdefault(label, []).append(used)
        for label, used in sorted(by_process.items(), key=lambda item: -sum(item[1])):
            per_try = sum(used) / len(runs) / args.tasks * 1000
            if abs(per_try) >= 0.05:
                print(f"    {per_try:7.2f} ms/try  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
