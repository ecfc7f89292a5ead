"""The scheduler at scale (issue 17): one DAG run of N mapped no-op tasks at parallelism 64, and the 200-task
fan-out at parallelism 8, each run by the real `tradewind scheduler` with the LocalExecutor; prints the
scheduler process's own CPU per task (the figure to trust on a loaded machine), the process tree's CPU and
the wall time.

    .venv/bin/python bench/scheduler_scale.py [--postgres] [--tasks N] [--only mapped fanout8] [--repeat R]
    PYTHONPATH=OLD/src .venv/bin/python bench/scheduler_scale.py ...   (the same for an older tree)

The scheduler's CPU (utime + stime of its own process, from /proc) is read once it is up and again when the
run has finished, before it stops: start-up is left out. Tree CPU is every live process under the scheduler
(the execution-API child, the DAG processor, the fork server and warm parents with the tries they reaped) at
that moment, start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from core_benchmarks import FANOUT_DAG, Env, _cpu_s, _tree

MAPPED_DAG = """
from datetime import datetime
from tradewind import DAG, task

with DAG("bench_mapped_{n}", schedule=None, start_date=datetime(2026, 1, 1), max_active_tasks={parallelism}) as dag:
    @task
    def numbers():
        return list(range({n}))

    @task
    def noop(x):
        return None

    noop.expand(x=numbers())
"""


class ScaleEnv(Env):
    """``Env`` with a longer wait for the scheduler to register: start-up takes tens of seconds on a loaded
    machine."""

    def wait_for_scheduler(self, timeout: float = 180) -> None:
        super().wait_for_scheduler(timeout)


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of every live process under ``pid`` (itself included), each with the
    children it reaped."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def bench_run(postgres: bool, dag_id: str, source: str, tasks: int, parallelism: int) -> dict[str, float]:
    """One run of ``dag_id`` (``tasks`` tries in all) on a fresh home and database."""
    env = ScaleEnv(
        postgres, parallelism=parallelism, extra_env={"TRADEWIND__METRICS__PROMETHEUS_ON": "false"}
    )
    try:
        env.write_dag(dag_id, source)
        env.prepare()
        with env.scheduler() as proc:
            cpu_before = _cpu_s(proc.pid)
            wall = env.trigger_and_wait(dag_id, timeout=7200)
            scheduler_cpu = _cpu_s(proc.pid) - cpu_before
            tree_cpu = _tree_cpu_s(proc.pid)
        return {
            "tasks": tasks,
            "scheduler_cpu_ms_per_task": 1000 * scheduler_cpu / tasks,
            "scheduler_cpu_s": scheduler_cpu,
            "tree_cpu_s": tree_cpu,
            "tree_cpu_ms_per_task": 1000 * tree_cpu / tasks,
            "wall_s": wall,
        }
    finally:
        env.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL on 127.0.0.1:5432")
    parser.add_argument(
        "--tasks", type=int, default=10_000, help="mapped tasks in the one run (default 10,000)"
    )
    parser.add_argument("--only", nargs="*", default=["mapped", "fanout8"], choices=["mapped", "fanout8"])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, each printed, then the median")
    args = parser.parse_args()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"# database: {'PostgreSQL' if args.postgres else 'SQLite'}; PYTHONPATH={os.environ.get('PYTHONPATH', '')}"
    )
    for name in args.only:
        if name == "mapped":
            n = args.tasks
            # The task that makes the list is one try more.
            spec = (f"bench_mapped_{n}", MAPPED_DAG.format(n=n, parallelism=64), n + 1, 64)
        else:
            spec = ("bench_fanout_200", FANOUT_DAG.format(n=200), 200, 8)
        results = []
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            started = time.time()
            result = bench_run(args.postgres, *spec)
            results.append(result)
            print(
                json.dumps(
                    {
                        "benchmark": name,
                        "load": round(load, 1),
                        "at": round(started),
                        **{k: round(v, 4) for k, v in result.items()},
                    }
                ),
                flush=True,
            )
        if args.repeat > 1:
            medians = {k: round(statistics.median(r[k] for r in results), 4) for k in results[0]}
            print(json.dumps({"benchmark": name, "median_of": args.repeat, **medians}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
