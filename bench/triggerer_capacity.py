"""Benchmark (issue 13): one `tradewind triggerer` holding N waiting DateTimeTriggers (default 10,000).

    .venv/bin/python bench/triggerer_capacity.py [--triggers 10000] [--spread 60] [--lead 40] [--postgres]

N deferred task instances, each on its own DateTimeTrigger, are written straight into a fresh metadata
database; their moments are spread evenly over --spread seconds starting --lead seconds after the triggerer
starts. The triggerer claims them all, then waits. Reported: resident memory of the triggerer and of its
trigger child (from /proc, both processes), CPU used by the two while every trigger waits (the window
before the first moment), and how late each trigger fired (``scheduled_at`` - moment; the triggerer writes
``scheduled_at`` in the transaction that fires it). Targets: under 200 MiB, under 5 % of a core while
waiting, every trigger within 1 s.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from tradewind.core.json_values import to_tagged_json
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import upgrade
from tradewind.store.tables import TaskInstanceModel, TriggerModel

TRADEWIND = str(Path(sys.executable).parent / "tradewind")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATE_TIME = "tradewind.sdk.triggers.temporal.DateTimeTrigger"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _seed(url: str, count: int, first: datetime, spread: float) -> None:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    step = spread / max(count - 1, 1)
    with transaction(factory) as session:
        for start in range(0, count, 1000):
            batch = range(start, min(start + 1000, count))
            moments = {i: first + timedelta(seconds=i * step) for i in batch}
            session.execute(
                insert(TriggerModel),
                [
                    {"id": i + 1, "classpath": DATE_TIME, "kwargs": to_tagged_json({"moment": moments[i]}),
                     "created_date": first, "triggerer_id": None}
                    for i in batch
                ],
            )  # fmt: skip
            session.execute(
                insert(TaskInstanceModel),
                [
                    {"dag_id": "bench", "run_id": "r", "task_id": f"t{i}", "map_index": -1, "state": "deferred",
                     "try_number": 1, "trigger_id": i + 1, "next_method": "done",
                     "next_kwargs": {"moment": moments[i].isoformat()}}
                    for i in batch
                ],
            )  # fmt: skip
    engine.dispose()


def _count(factory: object, *conditions: object) -> int:
    with factory() as session:  # type: ignore[operator]
        return int(
            session.scalar(select(func.count()).select_from(TaskInstanceModel).where(*conditions)) or 0
        )


def run(count: int, spread: float, lead: float, url: str, home: Path) -> dict[str, float]:
    first = datetime.now(UTC) + timedelta(seconds=lead)
    _seed(url, count, first, spread)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__DATABASE__URL": url,
        "TRADEWIND__TRIGGERER__CAPACITY": str(count),
        "TRADEWIND__LOGGING__LEVEL": "WARNING",
    }
    log = open(home / "triggerer.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([TRADEWIND, "triggerer"], env=env, stdout=log, stderr=subprocess.STDOUT)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        deadline = time.monotonic() + lead - 5
        claimed_at = None
        while time.monotonic() < deadline:
            with factory() as session:
                unclaimed = session.scalar(
                    select(func.count()).select_from(TriggerModel).where(TriggerModel.triggerer_id.is_(None))
                )
            if unclaimed == 0 and claimed_at is None:
                claimed_at = time.monotonic()
            if claimed_at is not None and time.monotonic() - claimed_at > 3:
                break  # every trigger handed to the child, and the child has had time to start them all
            time.sleep(0.5)
        if claimed_at is None:
            raise SystemExit(
                f"the triggerer did not claim {count} triggers in {lead - 5:.0f} s; raise --lead"
            )
        pids = [proc.pid, *_children(proc.pid)]
        window_end = first - timedelta(seconds=1)
        cpu_before, wall_before = sum(_cpu_seconds(p) for p in pids), time.monotonic()
        time.sleep(max(0.0, (window_end - datetime.now(UTC)).total_seconds()))
        cpu_used = sum(_cpu_seconds(p) for p in pids) - cpu_before
        waited = time.monotonic() - wall_before
        rss = {"triggerer": _rss_mib(proc.pid), "child": sum(_rss_mib(p) for p in pids[1:])}
        end = time.monotonic() + spread + 30
        while _count(factory, TaskInstanceModel.state == "deferred") and time.monotonic() < end:
            time.sleep(0.5)
        with factory() as session:
            rows = session.execute(
                select(TaskInstanceModel.scheduled_at, TaskInstanceModel.next_kwargs).where(
                    TaskInstanceModel.state == "scheduled"
                )
            ).all()
        late = sorted(
            (at - datetime.fromisoformat(kw["moment"])).total_seconds() for at, kw in rows if at is not None
        )
        return {
            "fired": len(late),
            "rss_triggerer_mib": rss["triggerer"],
            "rss_child_mib": rss["child"],
            "cpu_percent_waiting": 100 * cpu_used / waited,
            "waited_s": waited,
            "late_median_s": statistics.median(late) if late else float("nan"),
            "late_p99_s": late[int(len(late) * 0.99) - 1] if late else float("nan"),
            "late_max_s": late[-1] if late else float("nan"),
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triggers", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the moments fall")
    parser.add_argument("--lead", type=float, default=40.0, help="seconds before the first moment")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1 instead of SQLite")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tw-bench-triggerer-"))
    url = f"sqlite:///{home / 'tradewind.db'}"
    database = None
    if args.postgres:
        import psycopg

        database = f"tw_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    try:
        result = run(args.triggers, args.spread, args.lead, url, home)
    finally:
        if database is not None:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(home, ignore_errors=True)
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}")  # fmt: skip
    print(f"triggers fired: {result['fired']} of {args.triggers}")
    print(f"resident memory: triggerer {result['rss_triggerer_mib']:.0f} MiB + child {result['rss_child_mib']:.0f} MiB "
          f"= {result['rss_triggerer_mib'] + result['rss_child_mib']:.0f} MiB")  # fmt: skip
    print(
        f"CPU while all waited ({result['waited_s']:.0f} s): {result['cpu_percent_waiting']:.1f} % of one core"
    )
    print(f"lateness: median {result['late_median_s']:.3f} s, p99 {result['late_p99_s']:.3f} s, "
          f"max {result['late_max_s']:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
