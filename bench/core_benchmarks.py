"""Benchmarks of the core engine (issue 2): trigger latency, fan-out and chain throughput, start-up time,
idle memory and `version` wall time, on SQLite or PostgreSQL.

    .venv/bin/python bench/core_benchmarks.py [--postgres] [--only NAME ...] [--repeat N]
    .venv/bin/python bench/core_benchmarks.py [--postgres] --only fanout8 --metrics-pairs N
    .venv/bin/python bench/core_benchmarks.py --only standalone --repeat N [--old-src OLD/src]

``--metrics-pairs N`` runs the 200-task fan-out 2N times, metrics off and on in alternating pairs (off/on,
on/off, ...), and prints both medians (wall time, and CPU of the scheduler process where recording happens)
with the overhead in percent. "On" is both exporters: Prometheus served on a port, and StatsD.

Each figure is printed with the command that produced it. It runs the real `tradewind` processes (the
scheduler with the LocalExecutor and its DAG processor, the runner, the webserver) against a fresh
TRADEWIND_HOME in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

VENV_BIN = Path(sys.executable).parent
TRADEWIND = str(VENV_BIN / "tradewind")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

FANOUT_DAG = """
from datetime import datetime
from tradewind import DAG, PythonOperator

def noop():
    return None

with DAG("bench_fanout_{n}", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    for i in range({n}):
        PythonOperator(task_id=f"t{{i}}", python_callable=noop, do_xcom_push=False)
"""

CHAIN_DAG = """
from datetime import datetime
from tradewind import DAG, PythonOperator, chain

def noop():
    return None

with DAG("bench_chain_{n}", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    chain(*[PythonOperator(task_id=f"t{{i}}", python_callable=noop, do_xcom_push=False) for i in range({n})])
"""

BASH_DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG("bench_bash_true", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    BashOperator(task_id="true", bash_command="true")
"""


def create_scratch_database(prefix: str) -> str:
    """A new, uniquely named PostgreSQL database for one benchmark; returns its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_scratch_database(name: str | None) -> None:
    if name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Env:
    """A fresh TRADEWIND_HOME (and database) for one benchmark."""

    def __init__(self, postgres: bool, parallelism: int = 8, extra_env: dict[str, str] | None = None) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="tw-bench-"))
        self.home = self.tmp / "home"
        (self.home / "dags").mkdir(parents=True)
        self.pg_db: str | None = None
        if postgres:
            self.pg_db = create_scratch_database("tw_bench")
            self.url = f"postgresql://postgres@127.0.0.1:5432/{self.pg_db}"
        else:
            self.url = f"sqlite:///{self.home / 'tradewind.db'}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
            "TRADEWIND_HOME": str(self.home),
            "TRADEWIND__DATABASE__URL": self.url,
            "TRADEWIND__CORE__PARALLELISM": str(parallelism),
            "TRADEWIND__CORE__LOAD_EXAMPLES": "false",
            "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "TRADEWIND__LOGGING__LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        self._store_engine: Engine | None = None
        self._store_sessions: sessionmaker[Session] | None = None

    def tw(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TRADEWIND, *args], env=self.env, check=check, capture_output=True, text=True)

    def write_dag(self, name: str, source: str) -> None:
        (self.home / "dags" / f"{name}.py").write_text(textwrap.dedent(source))

    def prepare(self) -> None:
        self.tw("db", "migrate")
        self.tw("dag-processor", "--once")

    @contextmanager
    def scheduler(self) -> Iterator[subprocess.Popen[bytes]]:
        log = (self.tmp / "scheduler.log").open("wb")
        proc = subprocess.Popen([TRADEWIND, "scheduler"], env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.wait_for_scheduler()
            _quiet(proc.pid)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    def wait_for_scheduler(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM job WHERE job_type='scheduler' AND state='running'")).scalar():
                    return
            time.sleep(0.02)
        raise RuntimeError("scheduler did not start; see " + str(self.tmp / "scheduler.log"))

    def trigger_and_wait(self, dag_id: str, timeout: float = 300) -> float:
        """Insert a run the way `dags trigger` does (through the store), then poll until it finishes."""
        from tradewind.core.clock import utcnow
        from tradewind.store.engine import transaction
        from tradewind.store.new_runs import trigger_run

        sessions = self.store_sessions()
        start = time.perf_counter()
        with transaction(sessions) as session:
            run_id = trigger_run(session=session, dag_id=dag_id, now=utcnow()).run_id
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                state = conn.execute(
                    text("SELECT state FROM dag_run WHERE dag_id=:d AND run_id=:r"), {"d": dag_id, "r": run_id}
                ).scalar()
            if state in ("success", "failed"):
                elapsed = time.perf_counter() - start
                if state != "success":
                    raise RuntimeError(f"{dag_id} run {run_id} failed")
                return elapsed
            time.sleep(0.002)
        raise RuntimeError(f"{dag_id} did not finish in {timeout} s")

    def store_sessions(self) -> sessionmaker[Session]:
        """Sessions of the store's own engine, kept for every trigger (a client's pool is warm: the figures
        leave out connecting, as a webserver or a CLI with a pool would)."""
        if self._store_sessions is None:
            from tradewind.store.engine import make_engine, make_session_factory

            self._store_engine = make_engine(self.url)
            self._store_sessions = make_session_factory(self._store_engine)
            with self._store_sessions() as session:  # connect now, not inside the first timed trigger
                session.execute(text("SELECT 1"))
        return self._store_sessions

    def close(self) -> None:
        if self._store_engine is not None:
            self._store_engine.dispose()
        self.engine.dispose()
        drop_scratch_database(self.pg_db)
        shutil.rmtree(self.tmp, ignore_errors=True)


def bench_trigger(postgres: bool, repeat: int) -> dict[str, float]:
    env = Env(postgres)
    try:
        env.write_dag("bash_true", BASH_DAG)
        env.prepare()
        with env.scheduler():
            times = [env.trigger_and_wait("bench_bash_true") for _ in range(repeat)]
        return {"trigger_to_success_median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}
    finally:
        env.close()


def bench_fanout(
    postgres: bool, parallelism: int, n: int = 200, extra_env: dict[str, str] | None = None
) -> dict[str, float]:
    env = Env(postgres, parallelism=parallelism, extra_env=extra_env)
    try:
        env.write_dag("fanout", FANOUT_DAG.format(n=n))
        env.prepare()
        with env.scheduler() as proc:
            cpu_before = _cpu_s(proc.pid)
            elapsed = env.trigger_and_wait(f"bench_fanout_{n}")
            cpu = _cpu_s(proc.pid) - cpu_before
        return {"wall_s": elapsed, "tasks_per_s": n / elapsed, "scheduler_cpu_s": cpu}
    finally:
        env.close()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics_env(on: bool) -> dict[str, str]:
    if not on:
        return {"TRADEWIND__METRICS__PROMETHEUS_ON": "false", "TRADEWIND__METRICS__STATSD_ON": "false"}
    return {
        "TRADEWIND__METRICS__PROMETHEUS_ON": "true",
        "TRADEWIND__METRICS__SERVE_PORT": str(_free_port()),
        "TRADEWIND__METRICS__STATSD_ON": "true",
        "TRADEWIND__METRICS__STATSD_PORT": str(_free_port()),
    }


def bench_metrics_pairs(postgres: bool, pairs: int, n: int = 200) -> dict[str, float]:
    """The fan-out with metrics off and on, alternating which goes first in each pair so drift hits both."""
    walls: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    for i in range(pairs):
        for on in (False, True) if i % 2 == 0 else (True, False):
            result = bench_fanout(postgres, 8, n, extra_env=metrics_env(on))
            walls[on].append(result["wall_s"])
            cpus[on].append(result["scheduler_cpu_s"])
            print(json.dumps({"run": len(walls[on]), "metrics": "on" if on else "off",
                              **{k: round(v, 4) for k, v in result.items()}}), flush=True)
    off_wall, on_wall = statistics.median(walls[False]), statistics.median(walls[True])
    off_cpu, on_cpu = statistics.median(cpus[False]), statistics.median(cpus[True])
    # Runs drift with the machine's load: the median of each pair's own ratio resists that best.
    wall_ratio = statistics.median(on_ / off for on_, off in zip(walls[True], walls[False], strict=True))
    cpu_ratio = statistics.median(on_ / off for on_, off in zip(cpus[True], cpus[False], strict=True))
    return {
        "pairs": pairs,
        "pairwise_wall_overhead_median_pct": 100 * (wall_ratio - 1),
        "pairwise_scheduler_cpu_overhead_median_pct": 100 * (cpu_ratio - 1),
        "off_wall_median_s": off_wall,
        "on_wall_median_s": on_wall,
        "wall_overhead_pct": 100 * (on_wall - off_wall) / off_wall,
        "off_scheduler_cpu_median_s": off_cpu,
        "on_scheduler_cpu_median_s": on_cpu,
        "scheduler_cpu_overhead_pct": 100 * (on_cpu - off_cpu) / off_cpu,
    }


def bench_chain(postgres: bool, n: int = 50) -> dict[str, float]:
    env = Env(postgres, parallelism=8)
    try:
        env.write_dag("chain", CHAIN_DAG.format(n=n))
        env.prepare()
        with env.scheduler():
            elapsed = env.trigger_and_wait(f"bench_chain_{n}")
        return {"wall_s": elapsed, "tasks_per_s": n / elapsed}
    finally:
        env.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    pids, stack = [], [pid]
    while stack:
        p = stack.pop()
        pids.append(p)
        stack.extend(children.get(p, []))
    return pids


def _tree_cpu(pid: int) -> float:
    """CPU seconds of every live process under ``pid`` (and ``pid``)."""
    total = 0.0
    for p in _tree(pid):
        with suppress(OSError):  # ended meanwhile
            total += _cpu_s(p)
    return total


def _quiet(
    pid: int, window: float = 0.25, busy: float = 0.02, at_most: float = 20.0, at_least: float = 0.0
) -> None:
    """Wait (``at_least`` seconds, then at most until ``at_most``) until the process tree of ``pid`` used
    under ``busy`` CPU-seconds in a ``window``. By default: until a scheduler is done starting (it registers
    its job before its fork server and DAG processor have finished their imports; the figures are of a started
    scheduler, not of its start-up: ``scheduler_start_cost.py`` measures that)."""
    deadline = time.monotonic() + at_most
    time.sleep(at_least)
    before = _tree_cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(window)
        after = _tree_cpu(pid)
        if after - before < busy:
            return
        before = after


def _settle(pid: int) -> None:
    """Let start-up work (parsing the examples, first ticks) end before idle memory is measured: at least 10 s,
    then until the process tree used under 0.05 s of CPU in 2 s (a loaded machine stretches start-up well past
    a fixed wait), 90 s at most."""
    _quiet(pid, window=2.0, busy=0.05, at_most=90.0, at_least=10.0)


def bench_standalone(postgres: bool, repeat: int = 1, old_src: str | None = None) -> dict[str, float]:
    """Start to serving /health (wall, and CPU seconds of the standalone process by then: the figure to
    trust on a loaded machine), then idle PSS of its process tree once it settled (``_settle``); medians of
    ``repeat`` starts. With ``old_src`` each start of this tree alternates with one of the code under that ``src`` folder."""
    sides: dict[str, list[dict[str, float]]] = {"new": [], "old": []} if old_src else {"new": []}
    for _ in range(repeat):
        for side in sides:
            sides[side].append(_standalone_once(postgres, old_src if side == "old" else None))
    result: dict[str, float] = {}
    for side, runs in sides.items():
        prefix = "" if old_src is None else f"{side}_"
        for key in runs[0]:
            result[prefix + key] = statistics.median(run[key] for run in runs)
    return result


def _standalone_once(postgres: bool, src: str | None) -> dict[str, float]:
    env = Env(postgres)
    if src is not None:
        env.env["PYTHONPATH"] = src
    try:
        env.tw("db", "migrate")
        port = _free_port()
        env.env.update({"TRADEWIND_ADMIN_USER": "admin", "TRADEWIND_ADMIN_PASSWORD": "bench-password"})
        start = time.perf_counter()
        log = (env.tmp / "standalone.log").open("wb")
        proc = subprocess.Popen([TRADEWIND, "standalone", "--port", str(port)], env=env.env,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 60
            serving = serving_cpu = None
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                        if resp.status == 200:
                            serving = time.perf_counter() - start
                            serving_cpu = _cpu_s(proc.pid)
                            break
                except OSError:
                    time.sleep(0.01)
            if serving is None or serving_cpu is None:
                raise RuntimeError("standalone never served /health")
            _settle(proc.pid)
            pids = _tree(proc.pid)
            pss = [_pss_kib(p) / 1024 for p in pids]
            return {"start_to_serving_s": serving, "serving_cpu_s": serving_cpu, "idle_pss_mib": sum(pss),
                    "main_pss_mib": pss[0], "processes": len(pids)}
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        env.close()


def bench_version(repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([TRADEWIND, "version"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return {"version_median_s": statistics.median(times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL on 127.0.0.1:5432")
    parser.add_argument("--only", nargs="*", default=None,
                        choices=["trigger", "fanout8", "fanout2", "chain", "standalone", "version"])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--old-src", default=None, metavar="SRC",
                        help="standalone only: alternate each start with one of the code in SRC (a src folder, "
                        "e.g. from `git archive REV src`) and print both medians")
    parser.add_argument("--metrics-pairs", type=int, default=0, metavar="N",
                        help="fanout8 only: N alternating pairs of runs with metrics off and on")
    args = parser.parse_args()
    chosen = args.only or ["trigger", "fanout8", "fanout2", "chain", "standalone", "version"]
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    runners = {
        "trigger": lambda: bench_trigger(args.postgres, args.repeat),
        "fanout8": lambda: (
            bench_metrics_pairs(args.postgres, args.metrics_pairs)
            if args.metrics_pairs
            else bench_fanout(args.postgres, 8)
        ),
        "fanout2": lambda: bench_fanout(args.postgres, 2),
        "chain": lambda: bench_chain(args.postgres),
        "standalone": lambda: bench_standalone(
            args.postgres, args.repeat if "--repeat" in sys.argv else 1, args.old_src
        ),
        "version": lambda: bench_version(args.repeat),
    }
    for name in chosen:
        result = runners[name]()
        print(json.dumps({"benchmark": name, **{k: round(v, 4) for k, v in result.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
