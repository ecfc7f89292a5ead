"""Side by side with Apache Airflow (issue 17): the same workloads on Airflow and on Tradewind in one run.

    .venv/bin/python bench/airflow_side_by_side.py [--postgres] [--only NAME ...] [--repeat N]
        [--settle-seconds S] [--idle-seconds S]

Workloads (NAME): ``trigger`` (trigger to run success of one ``BashOperator("true")``), ``fanout8`` (200 no-op
``PythonOperator`` tasks at parallelism 8), ``chain`` (a chain of 50 no-op tasks), ``standalone`` (start to
serving, then idle memory (PSS of all processes) and idle CPU with no DAGs) and ``idle-examples`` (idle CPU of
a standalone with its example DAGs loaded and paused). It prints a table of both figures, the ratio
Airflow / Tradewind and whether it reaches the 10x target, with the command and the load average.

Airflow (the pins of ``tests/external_venvs.py``: apache-airflow-core 3.3.2, task SDK, standard provider) runs
from its own cached virtual environment, built by ``tests.external_venvs.ensure_venv`` (this script puts the
repository root on ``sys.path`` to import it); it is never installed into Tradewind's environment. It runs as a
user would run it: ``airflow db migrate`` in a fresh AIRFLOW_HOME, then ``airflow scheduler``,
``airflow dag-processor`` and ``airflow api-server`` (LocalExecutor, its defaults otherwise) for the timed
workloads, and ``airflow standalone`` for the installation figures. Runs are triggered through its REST API
(``POST /api/v2/dags/{dag_id}/dagRuns``) and waited for by polling its database, with a deadline.

Tradewind runs the same DAG files (``bench/core_benchmarks.py``'s, whose ``from tradewind import ...`` line is
rewritten to Airflow 3's modules for Airflow) through ``core_benchmarks.Env`` (the real ``tradewind
scheduler`` with the LocalExecutor; runs inserted the way ``dags trigger`` does) and ``tradewind standalone``.
Each side runs alone (the other side's processes are stopped), Airflow first. Besides wall time, the timed
workloads report the CPU seconds of all processes of the installation (user + system, children included, from
/proc): on a loaded machine that is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

# The bench folder (for core_benchmarks) and the repository root (for tests.external_venvs).
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core_benchmarks import (
    BASH_DAG,
    CHAIN_DAG,
    FANOUT_DAG,
    TRADEWIND,
    Env,
    _free_port,
    _pss_kib,
    _tree,
    create_scratch_database,
    drop_scratch_database,
)
from tests.external_venvs import (
    AIRFLOW_STANDARD_PROVIDER_VERSION,
    AIRFLOW_TASK_SDK_VERSION,
    AIRFLOW_VERSION,
    ensure_venv,
)

#: Airflow and what it needs to run as a service on SQLite or PostgreSQL (psycopg2 for its sync engine,
#: asyncpg for its async one), one environment for both.
AIRFLOW_REQUIREMENTS = (
    f"apache-airflow-core=={AIRFLOW_VERSION}",
    f"apache-airflow-task-sdk=={AIRFLOW_TASK_SDK_VERSION}",
    f"apache-airflow-providers-standard=={AIRFLOW_STANDARD_PROVIDER_VERSION}",
    "psycopg2-binary==2.9.10",
    "asyncpg==0.30.0",
)

#: Where Airflow 3 keeps each name the bench DAG files import from ``tradewind``.
AIRFLOW_MODULES = {
    "DAG": "airflow.sdk",
    "chain": "airflow.sdk",
    "PythonOperator": "airflow.providers.standard.operators.python",
    "BashOperator": "airflow.providers.standard.operators.bash",
}

TARGET_RATIO = 10.0
TIMED = ("trigger", "fanout8", "chain")
WORKLOADS = (*TIMED, "standalone", "idle-examples")
DEADLINE_S = 600.0


def airflow_source(tradewind_source: str) -> str:
    """The same DAG file for Airflow 3: its ``from tradewind import A, B`` line becomes Airflow's imports."""
    lines = textwrap.dedent(tradewind_source).splitlines()
    prefix = "from tradewind import "
    found = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    if len(found) != 1:
        raise ValueError("expected exactly one `from tradewind import ...` line in the DAG source")
    names = [name.strip() for name in lines[found[0]][len(prefix):].split(",")]
    unknown = [name for name in names if name not in AIRFLOW_MODULES]
    if unknown:
        raise ValueError(f"no Airflow module known for {unknown}")
    imports = [f"from {AIRFLOW_MODULES[name]} import {name}" for name in names]
    return "\n".join([*lines[: found[0]], *imports, *lines[found[0] + 1 :]]) + "\n"


@dataclass(frozen=True)
class Workload:
    """One timed workload: the DAG file (in Tradewind's form) and the id of the DAG it defines."""

    source: str
    dag_id: str


TIMED_WORKLOADS = {
    "trigger": Workload(BASH_DAG, "bench_bash_true"),
    "fanout8": Workload(FANOUT_DAG.format(n=200), "bench_fanout_200"),
    "chain": Workload(CHAIN_DAG.format(n=50), "bench_chain_50"),
}


def tree_cpu_s(roots: Sequence[int]) -> float:
    """User + system CPU seconds of the process trees under ``roots``, children already waited for included.

    A child that exits and is reaped inside the tree moves its time into its parent's ``cutime``/``cstime``, so
    the sum stays whole across snapshots.
    """
    total = 0
    for pid in {p for root in roots for p in _tree(root)}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / os.sysconf("SC_CLK_TCK")


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group this script started ``proc`` in; SIGKILL what is left after 30 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


class AirflowHome:
    """A fresh AIRFLOW_HOME (and database) with Airflow's own environment, for one workload."""

    def __init__(self, python: Path, postgres: bool, *, parallelism: int = 8, load_examples: bool = False) -> None:
        self.bin = python.parent
        self.tmp = Path(tempfile.mkdtemp(prefix="af-bench-"))
        self.home = self.tmp / "home"
        (self.home / "dags").mkdir(parents=True)
        self.pg_db: str | None = None
        if postgres:
            self.pg_db = create_scratch_database("af_bench")
            # Airflow's environment has psycopg2 (its documented driver); this script's has psycopg 3.
            url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.pg_db}"
            self.engine: Engine = create_engine(url.replace("+psycopg2://", "+psycopg://"))
        else:
            url = f"sqlite:///{self.home / 'airflow.db'}"
            self.engine = create_engine(url)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TRADEWIND", "VIRTUAL_ENV"))},
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": str(load_examples),
            # Timed workloads start unpaused like Tradewind's; the examples stay paused (both defaults).
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(load_examples),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def airflow(self, *args: str) -> None:
        result = subprocess.run([str(self.bin / "airflow"), *args], env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stderr[-4000:]}")

    def write_dag(self, workload: Workload) -> None:
        (self.home / "dags" / f"{workload.dag_id}.py").write_text(airflow_source(workload.source))

    def start(self, *command: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{'-'.join(command)}.log").open("wb")
        proc = subprocess.Popen([str(self.bin / "airflow"), *command], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    @contextmanager
    def services(self, dag_id: str) -> Iterator[list[int]]:
        """Scheduler, DAG processor and API server (it serves the execution API the tasks call)."""
        try:
            for command in ("api-server", "scheduler", "dag-processor"):
                self.start(command)
            self.wait_ready(dag_id)
            yield [proc.pid for proc in self.procs]
        finally:
            self.stop()

    def wait_ready(self, dag_id: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"an Airflow service exited at start; logs in {self.tmp}")
            if _http_ok(f"{self.base}/api/v2/monitor/health"):
                with self.engine.connect() as conn:
                    scheduler = conn.execute(
                        text("SELECT count(*) FROM job WHERE job_type='SchedulerJob' AND state='running'")
                    ).scalar()
                    dag = conn.execute(
                        text("SELECT count(*) FROM dag WHERE dag_id=:d AND is_paused=:f"), {"d": dag_id, "f": False}
                    ).scalar()
                if scheduler and dag:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"Airflow not ready with {dag_id} in {timeout} s; logs in {self.tmp}")

    def trigger_and_wait(self, dag_id: str, timeout: float = DEADLINE_S) -> float:
        """Trigger through the REST API, then poll the database until the run finishes; seconds from the POST."""
        request = urllib.request.Request(
            f"{self.base}/api/v2/dags/{dag_id}/dagRuns",
            data=json.dumps({"logical_date": None}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as resp:
            run_id = json.load(resp)["dag_run_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                state = conn.execute(
                    text("SELECT state FROM dag_run WHERE dag_id=:d AND run_id=:r"), {"d": dag_id, "r": run_id}
                ).scalar()
            if state in ("success", "failed"):
                elapsed = time.perf_counter() - start
                if state != "success":
                    raise RuntimeError(f"Airflow {dag_id} run {run_id} failed; logs in {self.tmp}")
                return elapsed
            time.sleep(0.01)
        raise RuntimeError(f"Airflow {dag_id} did not finish in {timeout} s")

    def stop(self) -> None:
        for proc in self.procs:
            _stop_group(proc)
        self.procs.clear()

    def close(self) -> None:
        self.stop()
        self.engine.dispose()
        drop_scratch_database(self.pg_db)
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Runs:
    """Wall and CPU seconds (all processes of the installation) of each timed run."""

    wall: list[float]
    cpu: list[float]


def airflow_timed(python: Path, postgres: bool, workload: Workload, repeat: int) -> Runs:
    home = AirflowHome(python, postgres)
    try:
        home.write_dag(workload)
        home.airflow("db", "migrate")
        runs = Runs([], [])
        with home.services(workload.dag_id) as roots:
            for _ in range(repeat):
                cpu = tree_cpu_s(roots)
                runs.wall.append(home.trigger_and_wait(workload.dag_id))
                runs.cpu.append(tree_cpu_s(roots) - cpu)
        return runs
    finally:
        home.close()


def tradewind_timed(postgres: bool, workload: Workload, repeat: int) -> Runs:
    env = Env(postgres, parallelism=8)
    try:
        env.write_dag(workload.dag_id, workload.source)
        env.prepare()
        runs = Runs([], [])
        with env.scheduler() as proc:
            for _ in range(repeat):
                cpu = tree_cpu_s([proc.pid])
                runs.wall.append(env.trigger_and_wait(workload.dag_id, timeout=DEADLINE_S))
                runs.cpu.append(tree_cpu_s([proc.pid]) - cpu)
        return runs
    finally:
        env.close()


@dataclass
class Installation:
    """A whole standalone installation: start to serving, then idle memory and CPU."""

    start_to_serving_s: float
    idle_pss_mib: float
    processes: int
    idle_cpu_pct: float
    dags: int


def measure_installation(
    command: list[str], env: dict[str, str], health_url: str, engine: Engine, *, settle: float, window: float,
    log: Path,
) -> Installation:
    """Start ``command``, time it to the first 200 from ``health_url``, let it settle, then measure it idle."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        serving = None
        while time.monotonic() < deadline and proc.poll() is None:
            if _http_ok(health_url):
                serving = time.perf_counter() - start
                break
            time.sleep(0.01)
        if serving is None:
            raise RuntimeError(f"{command[:2]} never served {health_url}; see {log}")
        time.sleep(settle)
        cpu = tree_cpu_s([proc.pid])
        began = time.perf_counter()
        time.sleep(window)
        cpu_pct = 100 * (tree_cpu_s([proc.pid]) - cpu) / (time.perf_counter() - began)
        pids = _tree(proc.pid)
        pss = sum(_pss_kib(p) for p in pids) / 1024
        with engine.connect() as conn:
            dags = int(conn.execute(text("SELECT count(*) FROM dag")).scalar() or 0)
        return Installation(serving, pss, len(pids), cpu_pct, dags)
    finally:
        _stop_group(proc)


def airflow_installation(python: Path, postgres: bool, examples: bool, settle: float, window: float) -> Installation:
    home = AirflowHome(python, postgres, load_examples=examples)
    try:
        home.airflow("db", "migrate")
        return measure_installation(
            [str(home.bin / "airflow"), "standalone"], home.env, f"{home.base}/api/v2/monitor/health", home.engine,
            settle=settle, window=window, log=home.tmp / "standalone.log",
        )
    finally:
        home.close()


def tradewind_installation(postgres: bool, examples: bool, settle: float, window: float) -> Installation:
    env = Env(postgres, extra_env={
        "TRADEWIND__CORE__LOAD_EXAMPLES": str(examples).lower(),
        "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
        "TRADEWIND_ADMIN_USER": "admin",
        "TRADEWIND_ADMIN_PASSWORD": "bench-password",
    })
    try:
        env.tw("db", "migrate")
        port = _free_port()
        return measure_installation(
            [TRADEWIND, "standalone", "--port", str(port)], env.env, f"http://127.0.0.1:{port}/health", env.engine,
            settle=settle, window=window, log=env.tmp / "standalone.log",
        )
    finally:
        env.close()


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure where lower is better on both sides."""

    workload: str
    airflow: float
    tradewind: float
    unit: str
    fmt: str = ".2f"

    @property
    def ratio(self) -> float:
        return self.airflow / self.tradewind if self.tradewind else float("inf")

    def markdown(self) -> str:
        met = "met" if self.ratio >= TARGET_RATIO else "missed"
        return (f"| {self.workload} | {self.airflow:{self.fmt}} {self.unit} | {self.tradewind:{self.fmt}} {self.unit} "
                f"| **{self.ratio:.1f}x** | {TARGET_RATIO:.0f}x: {met} |")


TIMED_LABELS = {
    "trigger": "trigger → run success, one BashOperator (median)",
    "fanout8": "200 no-op tasks, parallelism 8",
    "chain": "chain of 50 no-op tasks",
}


def timed_rows(name: str, airflow: Runs, tradewind: Runs) -> list[Row]:
    label = TIMED_LABELS[name]
    return [
        Row(f"{label}: wall", statistics.median(airflow.wall), statistics.median(tradewind.wall), "s",
            ".3f" if name == "trigger" else ".1f"),
        Row(f"{label}: CPU, all processes", statistics.median(airflow.cpu), statistics.median(tradewind.cpu), "s",
            ".2f" if name == "trigger" else ".1f"),
    ]


def installation_rows(name: str, airflow: Installation, tradewind: Installation) -> list[Row]:
    if name == "idle-examples":
        return [Row(f"idle CPU, standalone with example DAGs paused ({airflow.dags} / {tradewind.dags} DAGs)",
                    airflow.idle_cpu_pct, tradewind.idle_cpu_pct, "%", ".1f")]
    return [
        Row("start to serving, standalone", airflow.start_to_serving_s, tradewind.start_to_serving_s, "s"),
        Row(f"idle memory, all processes, PSS ({airflow.processes} / {tradewind.processes} processes)",
            airflow.idle_pss_mib, tradewind.idle_pss_mib, "MiB", ".0f"),
        Row("idle CPU, standalone with no DAGs", airflow.idle_cpu_pct, tradewind.idle_cpu_pct, "%", ".1f"),
    ]


def run_workload(name: str, args: argparse.Namespace, python: Path) -> list[Row]:
    """Airflow alone, then Tradewind alone, for one workload; each side's figures are printed as they come."""
    def report(side: str, figures: Runs | Installation) -> None:
        def rounded(value: object) -> object:
            if isinstance(value, float):
                return round(value, 4)
            return [rounded(v) for v in value] if isinstance(value, list) else value

        fields = {key: rounded(value) for key, value in asdict(figures).items()}
        print(json.dumps({"workload": name, "side": side, **fields}), flush=True)

    if name in TIMED:
        workload = TIMED_WORKLOADS[name]
        airflow_runs = airflow_timed(python, args.postgres, workload, args.repeat)
        report("airflow", airflow_runs)
        tradewind_runs = tradewind_timed(args.postgres, workload, args.repeat)
        report("tradewind", tradewind_runs)
        return timed_rows(name, airflow_runs, tradewind_runs)
    examples = name == "idle-examples"
    measure: dict[str, Callable[[], Installation]] = {
        "airflow": lambda: airflow_installation(python, args.postgres, examples, args.settle_seconds,
                                                args.idle_seconds),
        "tradewind": lambda: tradewind_installation(args.postgres, examples, args.settle_seconds, args.idle_seconds),
    }
    figures: dict[str, Installation] = {}
    for side, run in measure.items():
        figures[side] = run()
        report(side, figures[side])
    return installation_rows(name, figures["airflow"], figures["tradewind"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true", help="both on PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--only", nargs="*", default=None, choices=WORKLOADS)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed workload (medians reported)")
    parser.add_argument("--settle-seconds", type=float, default=30,
                        help="wait after a standalone serves before measuring it idle")
    parser.add_argument("--idle-seconds", type=float, default=60, help="window over which idle CPU is measured")
    args = parser.parse_args()
    chosen = args.only or list(WORKLOADS)
    command = " ".join([".venv/bin/python", *sys.argv])
    load_before = os.getloadavg()
    print(f"# command: {command}")
    print(f"# machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"# database: {'PostgreSQL' if args.postgres else 'SQLite'}; Airflow {AIRFLOW_VERSION} (LocalExecutor)")
    python = ensure_venv(AIRFLOW_REQUIREMENTS)
    print(f"# Airflow environment: {python.parent.parent}", flush=True)
    rows = [row for name in chosen for row in run_workload(name, args, python)]
    load_after = os.getloadavg()
    print(f"\n# load average at the end: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"| workload | Airflow {AIRFLOW_VERSION} | Tradewind | Airflow / Tradewind | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())
    print(f"\n{command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
