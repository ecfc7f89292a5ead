"""Benchmark: the UI pages of issue 15 over HTTP against a running `tradewind webserver` on SQLite.

    .venv/bin/python bench/web_benchmarks.py [--dags 1000] [--xcoms 5000] [--requests 30]

Seeds a fresh SQLite database in a temporary TRADEWIND_HOME (not timed) with bench/webserver_pages.py's
data (``--dags`` DAGs with five runs each, a 500-task DAG) plus ``--xcoms`` XComs and 50 users, starts a real
``tradewind webserver`` process, logs in as a browser does and times ``--requests`` requests of each page
after one warm-up request: the DAG list (with its last-run column, readable schedules and the time-zone
picker) in UTC and in a zone the user picked, its last page, the XCom list, and the admin pages. Times are
request round trips on loopback: the server's time plus well under a millisecond of transport.
Also the timelines (UI-LIVE): the graph of the 500-task DAG (page and data), the Gantt of its 500-task run
(each task instance with a queued time, one try and, for one in five, an earlier failed try), and the live
feed that pages poll (a full answer, and the 304 while nothing changed).
Targets (issue 15): the DAG list with 1,000 DAGs and the graph of a 500-task DAG under 200 ms, the Gantt of a
500-task run under 300 ms (median).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webserver_pages import free_port, login, report, seed, timed, wait_ready

from tradewind.actions.accounts import create_user
from tradewind.actions.passwords import hash_password
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.tables import TaskInstanceHistoryModel, TaskInstanceModel, UserModel, XComModel

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ADMIN_PASSWORD = "bench-admin-password"


def seed_pages(url: str, n_xcoms: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    password_hash = hash_password("bench-user-password")
    with transaction(factory) as session:
        session.execute(
            insert(XComModel),
            [
                {
                    "dag_id": f"dag_{i % 1000:04d}",
                    "run_id": f"scheduled__{i // 1000 % 5}",
                    "task_id": f"t{i // 5000}",
                    "map_index": -1,
                    "key": "return_value" if i % 3 else "db_password",
                    "value": f'{{"rows": {i}, "password": "s3cret"}}',
                    "timestamp": NOW + timedelta(seconds=i),
                }
                for i in range(n_xcoms)
            ],
        )
        session.execute(
            insert(UserModel),
            [
                {"username": f"user{i:02d}", "password_hash": password_hash, "role": "viewer", "active": True}
                for i in range(50)
            ],
        )
    create_user(factory, username="bench_admin", password=ADMIN_PASSWORD, role="admin")
    engine.dispose()


def seed_timelines(url: str) -> None:
    """Times on the 500-task run's task instances, and an earlier failed try for one in five."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        tis = session.execute(
            select(TaskInstanceModel.id, TaskInstanceModel.task_id).where(
                TaskInstanceModel.run_id == "bench_run"
            )
        ).all()
        for i, (ti_id, _task_id) in enumerate(tis):
            start = NOW + timedelta(seconds=i)
            session.execute(
                update(TaskInstanceModel)
                .where(TaskInstanceModel.id == ti_id)
                .values(queued_at=start - timedelta(seconds=1), start_date=start, end_date=start + timedelta(seconds=30),
                        duration=30.0, try_number=2 if i % 5 == 0 else 1)
            )  # fmt: skip
        session.execute(
            insert(TaskInstanceHistoryModel),
            [
                {"dag_id": "big_dag", "run_id": "bench_run", "task_id": task_id, "map_index": -1, "try_number": 1,
                 "state": "failed", "start_date": NOW, "end_date": NOW + timedelta(seconds=5), "duration": 5.0}
                for i, (_ti_id, task_id) in enumerate(tis)
                if i % 5 == 0
            ],
        )  # fmt: skip
    engine.dispose()


def timed_304(client: httpx.Client, path: str, n: int) -> list[float]:
    etag = client.get(path).headers["etag"]
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path, headers={"If-None-Match": etag})
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 304:
            raise RuntimeError(f"{path}: expected 304, got {response.status_code}")
    return times


def login_as(client: httpx.Client, username: str, password: str) -> str:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/dags"},
    )
    if response.status_code != 303:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:200]}")
    csrf = re.search(r'data-csrf="([^"]+)"', client.get("/dags", headers={"accept": "text/html"}).text)
    assert csrf is not None
    return csrf.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dags", type=int, default=1000)
    parser.add_argument("--xcoms", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    results: list[tuple[str, list[float], float]] = []
    with tempfile.TemporaryDirectory(prefix="tw-bench-ui-") as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND__")}
        env["TRADEWIND_HOME"] = str(home)
        os.environ["TRADEWIND_HOME"] = str(home)
        url = f"sqlite:///{home / 'tradewind.db'}"
        started = time.perf_counter()
        seed(url, args.dags, 500)
        seed_pages(url, args.xcoms)
        seed_timelines(url)
        print(
            f"seeded {args.dags} DAGs, {args.xcoms} XComs in {time.perf_counter() - started:.1f} s (not timed)"
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tradewind.cli.main", "webserver", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        html = "text/html"
        last_page = max(1, -(-args.dags // 50))
        try:
            wait_ready(base)
            with httpx.Client(base_url=base, timeout=30) as client:
                login(client)
                results.append(
                    (
                        f"DAG list page, {args.dags} DAGs, UTC",
                        timed(client, "/dags", args.requests, html),
                        200,
                    )
                )
                results.append(
                    (
                        f"DAG list page {last_page} (last)",
                        timed(client, f"/dags?page={last_page}", args.requests, html),
                        200,
                    )
                )
                results.append(
                    (f"XCom list, {args.xcoms} XComs", timed(client, "/xcoms", args.requests, html), 200)
                )
                results.append(
                    (
                        "XCom list filtered by DAG",
                        timed(client, "/xcoms?dag_id=dag_0007", args.requests, html),
                        200,
                    )
                )
                run = "run_id=bench_run"
                live = "/ui/live?key=" + quote('["tasks", "big_dag", "bench_run"]')
                json_ = "application/json"
                timelines = [
                    ("graph page, 500-task DAG", f"/dags/big_dag?{run}", html, 200),
                    ("graph data, 500-task DAG with states", f"/dags/big_dag/graph-data?{run}", json_, 200),
                    ("Gantt page, 500-task run", f"/dags/big_dag/gantt?{run}", html, 300),
                    ("Gantt data, 500-task run (600 tries)", f"/dags/big_dag/gantt-data?{run}", json_, 300),
                    ("live feed, 500-task run, full answer", live, json_, 200),
                ]
                for name, path, accept, target in timelines:
                    results.append((name, timed(client, path, args.requests, accept), target))
                results.append(("live feed, 500-task run, 304", timed_304(client, live, args.requests), 200))
            with httpx.Client(base_url=base, timeout=30) as admin:
                csrf = login_as(admin, "bench_admin", ADMIN_PASSWORD)
                admin.post("/preferences/timezone", data={"csrf_token": csrf, "timezone": "Europe/Paris"})
                results.append(
                    (
                        f"DAG list page, {args.dags} DAGs, Europe/Paris",
                        timed(admin, "/dags", args.requests, html),
                        200,
                    )
                )
                results.append(("users page, 52 users", timed(admin, "/users", args.requests, html), 200))
                results.append(
                    ("configuration page", timed(admin, "/configuration", args.requests, html), 200)
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for label, times, limit in results:
        report(label, times, limit)
    print("command: " + shlex.join([".venv/bin/python", "bench/web_benchmarks.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
