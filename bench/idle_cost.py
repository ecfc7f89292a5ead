"""Benchmark (issue 17): CPU a Tradewind process tree burns while it has nothing to do.

    .venv/bin/python bench/idle_cost.py [--mode standalone|scheduler] [--postgres] [--dags 100]
        [--examples] [--window 60] [--settle 10] [--src PATH]

A fresh TRADEWIND_HOME in a temporary folder gets ``--dags`` generated DAG files of 10 tasks each (daily
schedule, all paused: ``dags_are_paused_at_creation``), plus the bundled examples only with ``--examples``.
``standalone`` runs `tradewind standalone` (SQLite; webserver, scheduler, DAG processor, triggerer);
``scheduler`` runs `tradewind scheduler` alone (with its DAG processor child) on SQLite, or on a fresh
PostgreSQL database with ``--postgres``. Once serving and every DAG is stored, it waits ``--settle`` seconds,
then measures the CPU seconds (user + system, from /proc) of the whole process tree over ``--window``
seconds: processes alive at the start and end, children started and reaped during the window (through
their parent's cutime/cstime) included. Printed: % of one core per process and in total, and the command.
``--src`` runs another copy of the code (``PYTHONPATH``), to compare old and new in one sitting.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

DAG_TEMPLATE = """\
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG("idle_{n:03d}", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False) as dag:
    previous = None
    for i in range(10):
        step = BashOperator(task_id=f"step_{{i}}", bash_command="true")
        if previous is not None:
            previous >> step
        previous = step
"""


@dataclass
class _Cpu:
    own: float  # utime + stime
    reaped: float  # cutime + cstime: children this process waited for
    name: str


def _read(pid: int) -> _Cpu | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    words = [a.decode(errors="replace") for a in argv if a]
    name = " ".join(Path(w).name if i == 0 else w for i, w in enumerate(words))[:70]
    return _Cpu(
        (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
        (int(fields[13]) + int(fields[14])) / CLOCK_TICKS,
        name,
    )


def _tree(root: int) -> list[int]:
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                stack += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return pids


def _snapshot(root: int) -> dict[int, _Cpu]:
    return {pid: cpu for pid in _tree(root) if (cpu := _read(pid)) is not None}


def measure(root: int, window: float) -> tuple[dict[str, float], float]:
    """CPU seconds per process over ``window`` and in total, sampling the tree every second so a child that
    lives through part of the window is seen."""
    start = _snapshot(root)
    last = dict(start)
    end_at = time.monotonic() + window
    while (left := end_at - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        for pid, cpu in _snapshot(root).items():
            last[pid] = cpu
    end = _snapshot(root)
    per: dict[str, float] = {}
    for pid, cpu in last.items():
        now, base = end.get(pid), start.get(pid)
        if now is not None:
            per[f"{pid} {now.name}"] = (
                now.own - (base.own if base else 0.0) + now.reaped - (base.reaped if base else 0.0)
            )
        else:
            # Gone: once reaped, its whole life is in its parent's cutime/cstime; what it used before the
            # window must come off.
            per[f"{pid} {cpu.name} (ended)"] = -(base.own if base else 0.0)
    return per, sum(per.values())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: object, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"the process exited ({proc.returncode}) waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def run(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="tw_idle_"))
    dags = home / "dags"
    dags.mkdir()
    for n in range(args.dags):
        (dags / f"idle_{n:03d}.py").write_text(DAG_TEMPLATE.format(n=n))
    pg_db = None
    if args.postgres:
        pg_db = f"tw_idle_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_db}"'))
        admin.dispose()
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_db}"
    else:
        url = f"sqlite:///{home / 'tradewind.db'}"
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__DATABASE__URL": url,
        "TRADEWIND__CORE__LOAD_EXAMPLES": "true" if args.examples else "false",
        "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
        "TRADEWIND__LOGGING__LEVEL": "WARNING",
        "TRADEWIND_ADMIN_PASSWORD": "bench-password",
    }
    if args.src:
        env["PYTHONPATH"] = args.src
    cmd = [sys.executable, "-m", "tradewind.cli.main"]
    if args.mode == "standalone":
        cmd += ["standalone", "--port", str(port)]
    else:
        subprocess.run([*cmd, "db", "migrate"], env=env, check=True, capture_output=True)
        cmd += ["scheduler"]
    log = home / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home)
    engine = create_engine(url)
    expected = args.dags + (_example_count() if args.examples else 0)

    def stored() -> bool:
        with engine.connect() as conn:
            return (
                int(conn.execute(text("SELECT count(*) FROM dag WHERE is_active")).scalar_one()) >= expected
            )

    try:
        if args.mode == "standalone":
            _wait(
                "the webserver",
                lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2),
                120,
                proc,
                log,
            )
        _wait(f"{expected} DAGs stored", stored, 300, proc, log)
        time.sleep(args.settle)
        per, total = measure(proc.pid, args.window)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        engine.dispose()
        if pg_db is not None:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(home, ignore_errors=True)
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"# {' '.join(sys.argv)}")
    print(
        f"{args.mode} on {database}, {args.dags} DAG files x 10 tasks{' + examples' if args.examples else ''},"
        f" all paused, code from {args.src or 'the venv'}; window {args.window:g} s"
    )
    for label, seconds in sorted(per.items(), key=lambda item: -item[1]):
        if seconds > 0:
            print(f"  {100 * seconds / args.window:6.2f} %  {label}")
    print(f"  {100 * total / args.window:6.2f} %  total ({total:.2f} CPU s)")


def _example_count() -> int:
    folder = Path(__file__).resolve().parent.parent / "src" / "tradewind" / "example_dags"
    return len(list(folder.glob("example_*.py")))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["standalone", "scheduler"], default="standalone")
    parser.add_argument("--postgres", action="store_true", help="scheduler mode: a fresh PostgreSQL database")
    parser.add_argument("--dags", type=int, default=100, help="generated DAG files (10 tasks each)")
    parser.add_argument("--examples", action="store_true", help="load the bundled example DAGs too")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds waited after every DAG is stored")
    parser.add_argument("--src", default=None, help="another copy of src/ to run (PYTHONPATH)")
    args = parser.parse_args()
    if args.postgres and args.mode == "standalone":
        parser.error("--postgres goes with --mode scheduler")
    run(args)


if __name__ == "__main__":
    main()
