"""Benchmark: the webserver's DAG list with 1,000 DAGs, the graph data of a 500-task DAG, and idle memory.

    .venv/bin/python bench/webserver_pages.py [--dags 1000] [--tasks 500] [--requests 30]

It seeds a fresh SQLite database in a temporary TRADEWIND_HOME (not timed): ``--dags`` DAGs with five
runs each, and one DAG of ``--tasks`` tasks (ten layers, each task fed by two of the layer before, with
task groups) with a run whose task instances carry states. It then starts a real ``tradewind webserver``
process, logs in as a browser does, and times ``--requests`` requests of each page over HTTP after one
warm-up request, printing the median and 95th percentile. Memory is the webserver process's PSS
(/proc/PID/smaps_rollup) right after start-up (idle) and after the timed requests.
Targets (issue 3): DAG list under 200 ms median, graph data under 200 ms, idle memory under 100 MiB.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from tradewind.actions.accounts import create_user
from tradewind.core.serialized_dag import SerializedDag, SerializedTask, SerializedTaskGroup
from tradewind.store import dags
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import upgrade
from tradewind.store.tables import DagRunModel, TaskInstanceModel

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD = "bench-password"
STATES = ("success", "success", "running", "failed", "queued", None)


def small_dag(dag_id: str, index: int) -> SerializedDag:
    tasks = [
        SerializedTask(
            task_id=f"t{i}",
            operator="BashOperator",
            upstream=[f"t{i - 1}"] if i else [],
            downstream=[f"t{i + 1}"] if i < 9 else [],
        )
        for i in range(10)
    ]
    return SerializedDag(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        description=f"benchmark DAG {index}",
        tags=[f"team{index % 10}", "bench"],
        owners=["bench"],
        timetable={"type": "cron", "expression": "0 * * * *", "timezone": "UTC"},
        tasks=tasks,
    )


def big_dag(n_tasks: int) -> SerializedDag:
    width = max(1, n_tasks // 10)
    ids = [[f"layer{layer}.t{i}" for i in range(width)] for layer in range(10)]
    tasks = []
    for layer in range(10):
        for i in range(width):
            up = [ids[layer - 1][i], ids[layer - 1][(i + 1) % width]] if layer else []
            down = [ids[layer + 1][i], ids[layer + 1][(i - 1) % width]] if layer < 9 else []
            tasks.append(
                SerializedTask(
                    task_id=ids[layer][i],
                    operator="PythonOperator",
                    upstream=sorted(set(up)),
                    downstream=sorted(set(down)),
                    task_group=f"layer{layer}" if layer % 3 == 1 else None,
                )
            )
    groups = {
        f"layer{layer}": SerializedTaskGroup(group_id=f"layer{layer}")
        for layer in range(10)
        if layer % 3 == 1
    }
    return SerializedDag(dag_id="big_dag", fileloc="/dags/big_dag.py", tasks=tasks, task_groups=groups)


def seed(url: str, n_dags: int, n_tasks: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        for i in range(n_dags):
            dags.upsert_dag(
                session=session, sdag=small_dag(f"dag_{i:04d}", i), paused_default=i % 7 == 0, now=NOW
            )
        dags.upsert_dag(session=session, sdag=big_dag(n_tasks), paused_default=False, now=NOW)
        runs = [
            {
                "dag_id": f"dag_{i:04d}",
                "run_id": f"scheduled__{r}",
                "run_type": "scheduled",
                "state": ("success", "failed", "running")[(i + r) % 3],
                "logical_date": NOW + timedelta(hours=r),
                "conf": {},
                "external_trigger": False,
                "updated_at": NOW,
            }
            for i in range(n_dags)
            for r in range(5)
        ]
        runs.append(
            {
                "dag_id": "big_dag",
                "run_id": "bench_run",
                "run_type": "manual",
                "state": "running",
                "logical_date": NOW,
                "conf": {},
                "external_trigger": True,
                "updated_at": NOW,
            }
        )
        session.execute(insert(DagRunModel), runs)
        sdag = big_dag(n_tasks)
        session.execute(
            insert(TaskInstanceModel),
            [
                {
                    "dag_id": "big_dag",
                    "run_id": "bench_run",
                    "task_id": t.task_id,
                    "map_index": -1,
                    "state": STATES[i % len(STATES)],
                    "try_number": 1,
                    "max_tries": 0,
                    "pool": "default_pool",
                    "pool_slots": 1,
                    "queue": "default",
                    "priority_weight": 1,
                    "updated_at": NOW,
                }
                for i, t in enumerate(sdag.tasks)
            ],
        )
    create_user(factory, username="bench", password=PASSWORD, role="viewer")
    engine.dispose()


def pss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no Pss line in smaps_rollup")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the webserver at {url} did not start within {timeout} s")


def login(client: httpx.Client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1), "next": "/dags"},
    )
    if response.status_code != 303:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:200]}")


def timed(client: httpx.Client, path: str, n: int, accept: str) -> list[float]:
    client.get(path, headers={"accept": accept}).raise_for_status()  # warm-up: caches, first query plans
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.get(path, headers={"accept": accept}).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float], target: float) -> None:
    median = statistics.median(times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    verdict = "ok" if median < target else "OVER TARGET"
    print(f"{name:<44} median {median:7.1f} ms   p95 {p95:7.1f} ms   (target < {target:.0f} ms: {verdict})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dags", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-bench-web-") as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND__")}
        env["TRADEWIND_HOME"] = str(home)
        os.environ["TRADEWIND_HOME"] = str(home)
        url = f"sqlite:///{home / 'tradewind.db'}"
        started = time.perf_counter()
        seed(url, args.dags, args.tasks)
        print(
            f"seeded {args.dags} DAGs (5 runs each) and a {args.tasks}-task DAG in "
            f"{time.perf_counter() - started:.1f} s (not timed below)"
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tradewind.cli.main", "webserver", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base)
            idle = pss_mib(server.pid)
            with httpx.Client(base_url=base, timeout=30) as client:
                login(client)
                page = timed(client, "/dags", args.requests, "text/html")
                filtered = timed(client, "/dags?tag=team3&q=dag_0", args.requests, "text/html")
                graph = timed(
                    client, "/dags/big_dag/graph-data?run_id=bench_run", args.requests, "application/json"
                )
                collapsed = timed(
                    client,
                    "/dags/big_dag/graph-data?run_id=bench_run&collapsed=layer1,layer4",
                    args.requests,
                    "application/json",
                )
                states = timed(
                    client, "/dags/big_dag/runs/bench_run/states", args.requests, "application/json"
                )
                api = timed(client, "/api/v1/dags?limit=100", args.requests, "application/json")
            busy = pss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    report(f"DAG list page, {args.dags} DAGs (50 per page)", page, 200)
    report("DAG list page, tag + text filter", filtered, 200)
    report(f"graph data, {args.tasks}-task DAG with states", graph, 200)
    report("graph data, two groups collapsed", collapsed, 200)
    report("run states (what the graph polls)", states, 200)
    report("API GET /api/v1/dags?limit=100", api, 200)
    print(
        f"{'webserver memory (PSS), idle after start':<44} {idle:7.1f} MiB   (target < 100 MiB: "
        f"{'ok' if idle < 100 else 'OVER TARGET'})"
    )
    print(f"{'webserver memory (PSS), after the requests':<44} {busy:7.1f} MiB")
    print("command: " + shlex.join([".venv/bin/python", "bench/webserver_pages.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
