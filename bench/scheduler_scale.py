"""The scheduler at scale (issue 17): one DAG run of N mapped no-op tasks at parallelism 64, and the 200-task
fan-out at parallelism 8, each run by the real `tradewind scheduler` with the LocalExecutor; prints the
scheduler process's own CPU per task (the figure to trust on a loaded machine), the process tree's CPU and
the wall time.

    .venv/bin/python bench/scheduler_scale.py [--postgres] [--tasks N] [--only mapped fanout8] [--repeat R]
    .venv/bin/python bench/scheduler_scale.py --postgres --only fanout2000 --schedulers 1 2
    PYTHONPATH=OLD/src .venv/bin/python bench/scheduler_scale.py ...   (the same for an older tree)

``fanout2000`` (issue 17's HA figure) runs one run of 2,000 no-op tasks (``max_active_tasks`` 64) with each
count of ``--schedulers`` given: that many `tradewind scheduler` processes on one database (PostgreSQL for
more than one), each at parallelism 8, the second and later without a DAG processor of their own. It prints
the wall time and each process's CPU over the run (each scheduler, its execution-API child, its DAG
processor, its fork server with the warm parents and the tries they reaped), and a modelled wall time for a
machine with a core per busy process: the run cannot end before its busiest scheduler or execution-API
process (each runs one interpreter) has done its work, nor before all the tries' CPU has run 8 at a time
per scheduler. PostgreSQL's own CPU is not in the model.

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
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from core_benchmarks import FANOUT_DAG, TRADEWIND, Env, _cpu_s, _tree
from sqlalchemy import text

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


FANOUT_MANY_DAG = """
from datetime import datetime
from tradewind import DAG, PythonOperator

def noop():
    return None

with DAG("bench_fanout_many_{n}", schedule=None, start_date=datetime(2026, 1, 1), max_active_tasks=64) as dag:
    for i in range({n}):
        PythonOperator(task_id=f"t{{i}}", python_callable=noop, do_xcom_push=False)
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


def _proc_cpu_s(pid: int) -> tuple[float, float]:
    """(own, reaped children's) user + system CPU seconds of one process; zeros when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _role(pid: int) -> str:
    """What a scheduler's child is, from its command line."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "dag-processor" in cmd:
        return "dag_processor"
    if "forkserver" in cmd or "fork_server" in cmd:
        return "fork_server_and_tries"
    if "multiprocessing" in cmd or "execution" in cmd or "uvicorn" in cmd:
        return "execution_api"
    return "child:" + cmd[-60:]


def _roles_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a scheduler (its own) and of each direct child with everything under it, live or
    reaped, by role."""
    out = {"scheduler": _proc_cpu_s(pid)[0]}
    for child in _tree(pid):
        if child == pid or not _is_child(child, pid):
            continue
        role = _role(child)
        out[role] = out.get(role, 0.0) + _tree_cpu_s(child)
    return out


def _is_child(pid: int, parent: int) -> bool:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == parent
    except OSError:
        return False


def bench_schedulers(postgres: bool, schedulers: int, tasks: int, parallelism: int = 8) -> dict[str, object]:
    """One run of a ``tasks``-wide fan-out with ``schedulers`` scheduler processes on one database."""
    dag_id = f"bench_fanout_many_{tasks}"
    env = ScaleEnv(
        postgres, parallelism=parallelism, extra_env={"TRADEWIND__METRICS__PROMETHEUS_ON": "false"}
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        env.write_dag(dag_id, FANOUT_MANY_DAG.format(n=tasks))
        env.prepare()
        for i in range(schedulers):
            extra = {} if i == 0 else {"TRADEWIND__SCHEDULER__STANDALONE_DAG_PROCESSOR": "true"}
            log = (env.tmp / f"scheduler{i}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [TRADEWIND, "scheduler"], env={**env.env, **extra}, stdout=subprocess.DEVNULL, stderr=log
                )
            )
        _wait_for_schedulers(env, schedulers)
        before = [_roles_cpu(p.pid) for p in procs]
        wall = env.trigger_and_wait(dag_id, timeout=7200)
        after = [_roles_cpu(p.pid) for p in procs]
        with env.engine.connect() as conn:
            per_job = dict(
                conn.execute(
                    text("SELECT queued_by_job_id, count(*) FROM task_instance GROUP BY queued_by_job_id")
                ).all()
            )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        env.close()
    cpu = [
        {role: round(a.get(role, 0.0) - b.get(role, 0.0), 3) for role in a}
        for b, a in zip(before, after, strict=True)
    ]
    tries_cpu = sum(c.get("fork_server_and_tries", 0.0) for c in cpu)
    # The DAG processor is not on the run's path (it re-parses its folder once at start).
    busiest = max(v for c in cpu for role, v in c.items() if role in ("scheduler", "execution_api"))
    modelled = max(busiest, tries_cpu / (parallelism * schedulers))
    return {
        "schedulers": schedulers,
        "tasks": tasks,
        "wall_s": round(wall, 3),
        "tasks_per_s": round(tasks / wall, 2),
        "cpu_s_by_scheduler": cpu,
        "tries_per_scheduler_job": sorted(per_job.values(), reverse=True),
        "total_cpu_s": round(sum(sum(c.values()) for c in cpu), 3),
        "modelled_wall_s": round(modelled, 3),
        "modelled_tasks_per_s": round(tasks / modelled, 2),
    }


def _wait_for_schedulers(env: Env, count: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with env.engine.connect() as conn:
            running = conn.execute(
                text("SELECT count(*) FROM job WHERE job_type='scheduler' AND state='running'")
            ).scalar()
        if running is not None and running >= count:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{count} schedulers did not start; see {env.tmp}")


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
    parser.add_argument(
        "--only", nargs="*", default=["mapped", "fanout8"], choices=["mapped", "fanout8", "fanout2000"]
    )
    parser.add_argument(
        "--schedulers", nargs="*", type=int, default=[1, 2], help="fanout2000: scheduler counts to run (1 2)"
    )
    parser.add_argument("--fanout-tasks", type=int, default=2000, help="fanout2000: tasks in the run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, each printed, then the median")
    args = parser.parse_args()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"# database: {'PostgreSQL' if args.postgres else 'SQLite'}; PYTHONPATH={os.environ.get('PYTHONPATH', '')}"
    )
    for name in args.only:
        if name == "fanout2000":
            for _ in range(args.repeat):
                for count in args.schedulers:
                    load = os.getloadavg()[0]
                    result = bench_schedulers(args.postgres, count, args.fanout_tasks)
                    print(json.dumps({"benchmark": name, "load": round(load, 1), **result}), flush=True)
            continue
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
