"""Benchmark (issues 16 and 17): what starting `tradewind scheduler` costs, in CPU and memory, until it is ready.

    .venv/bin/python bench/scheduler_start_cost.py [--repeat 5] [--old-src PATH] [--postgres] [--dags 20]

Each round makes a fresh TRADEWIND_HOME (SQLite, or a fresh PostgreSQL database with ``--postgres``) with
``--dags`` generated DAG files, migrates it, starts `tradewind scheduler`, and waits until it is ready: its job
row is there and every DAG file is stored. Then it reads, for every process of the scheduler's tree, the CPU
seconds it used (user + system, its reaped children included) and its proportional memory (PSS), then stops
the scheduler with SIGTERM. ``--old-src`` alternates rounds with another copy of ``src/`` (``PYTHONPATH``),
so old and new are compared in one sitting on the same machine; the medians are printed per process role.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DAG = """\
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG("start_cost_{n}", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False):
    BashOperator(task_id="a", bash_command="true") >> BashOperator(task_id="b", bash_command="true")
"""


def _children(pid: int) -> list[int]:
    try:
        words = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(w) for w in words]


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "scheduler"
    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    for needle, role in (("dag-processor", "dag processor"), ("execution-api", "execution API"),
                         ("forkserver", "fork server"), ("resource_tracker", "resource tracker")):  # fmt: skip
        if needle in cmd:
            return role
    return "other"


def _measure(root: int) -> dict[str, tuple[float, float]]:
    """CPU seconds (own + reaped children) and PSS MiB per role, over the tree under ``root``."""
    out: dict[str, tuple[float, float]] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(_children(pid))
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            pss = next(
                int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                if line.startswith("Pss:")
            )  # fmt: skip
            role = _role(pid, root)
        except (OSError, StopIteration):
            continue
        cpu = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS
        old_cpu, old_pss = out.get(role, (0.0, 0.0))
        out[role] = (old_cpu + cpu, old_pss + pss / 1024)
    return out


def _database(home: Path, postgres: bool) -> tuple[str, str | None]:
    if not postgres:
        return f"sqlite:///{home / 'tradewind.db'}", None
    name = f"tw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def _drop(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _ready(url: str, dags: int) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            jobs = conn.execute(text("SELECT count(*) FROM job WHERE job_type = 'scheduler'")).scalar_one()
            stored = conn.execute(text("SELECT count(*) FROM serialized_dag")).scalar_one()
        return bool(jobs) and stored >= dags
    except SQLAlchemyError:  # tables not there yet: not ready
        return False
    finally:
        engine.dispose()


def one_round(src: str | None, dags: int, postgres: bool) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="tw-start-cost-") as tmp:
        home = Path(tmp)
        (home / "dags").mkdir()
        for n in range(dags):
            (home / "dags" / f"dag_{n}.py").write_text(DAG.format(n=n))
        url, name = _database(home, postgres)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
        env.update(TRADEWIND_HOME=str(home), TRADEWIND__DATABASE__URL=url)
        if src:
            env["PYTHONPATH"] = src
        try:
            subprocess.run([TRADEWIND, "db", "migrate"], env=env, check=True, capture_output=True)
            with (home / "scheduler.log").open("wb") as log:
                proc = subprocess.Popen([TRADEWIND, "scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 120
                while not _ready(url, dags):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the scheduler did not get ready:\n{(home / 'scheduler.log').read_text()}")
                    time.sleep(0.1)
                return _measure(proc.pid)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
        finally:
            _drop(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dags", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--old-src", default=None, metavar="SRC", help="another copy of src/ to alternate with")
    args = parser.parse_args()
    sides = {"new": None, **({"old": args.old_src} if args.old_src else {})}
    results: dict[str, list[dict[str, tuple[float, float]]]] = defaultdict(list)
    for _ in range(args.repeat):
        for side, src in sides.items():
            results[side].append(one_round(src, args.dags, args.postgres))
    print(f"# {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}: medians of {args.repeat} rounds")
    print(f"{'side':5} {'role':17} {'CPU s':>7} {'PSS MiB':>8}")
    for side, rounds in results.items():
        roles = sorted({role for r in rounds for role in r})
        for role in [*roles, "total"]:
            if role == "total":
                cpu = statistics.median(sum(v[0] for v in r.values()) for r in rounds)
                pss = statistics.median(sum(v[1] for v in r.values()) for r in rounds)
            else:
                cpu = statistics.median(r.get(role, (0.0, 0.0))[0] for r in rounds)
                pss = statistics.median(r.get(role, (0.0, 0.0))[1] for r in rounds)
            print(f"{side:5} {role:17} {cpu:7.2f} {pss:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
