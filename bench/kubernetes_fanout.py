"""Kubernetes executor fan-out on the fake cluster (issue 4): N independent no-op tasks.

    .venv/bin/python bench/kubernetes_fanout.py [--tasks 200] [--mode executor|scheduler|both]
                                                 [--concurrency 8] [--parallelism 200]

executor mode: the KubernetesExecutor alone carries N tries whose pods run `true`. Per try it splits
  executor overhead = (queue_workload -> pod created) + (terminal status stored by the API server ->
  watch event in the executor -> TaskEvent emitted) from the cluster's own time (pod created -> terminal
  status stored: kubelet scheduling, process start and exit, status report), and reports pods created
  per second.
scheduler mode: the real scheduler with this executor runs a DAG of N BashOperator("true") tasks, each
  pod running `tradewind tasks run`; reports trigger -> run success, and per try the time from queued to
  the runner's start (pod creation + interpreter start) and from the runner's end to the scheduler
  seeing the run finish. On PostgreSQL (default; --sqlite to compare): SQLite cannot take 200 runners
  writing at once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from tradewind.config.settings import KubernetesSettings
from tradewind.core.events import TaskEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.executor import KubernetesExecutor
from tradewind.executors.kubernetes.pod_identity import pod_name, try_key_of
from tradewind.executors.kubernetes.pod_launcher import LaunchResult
from tradewind.testing.fake_cluster import FakeCluster
from tradewind.testing.fake_kubernetes import FakeKubernetes
from tradewind.testing.process_kubelet import KubeletConfig, ProcessKubelet

VENV_BIN = Path(sys.executable).parent
TRADEWIND = str(VENV_BIN / "tradewind")


class TimedExecutor(KubernetesExecutor):
    """Records when each try crosses each boundary; the executor itself is unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marks: dict[str, dict[TaskTryKey, float]] = {n: {} for n in ("queued", "created", "watched", "emitted")}
        self.done = threading.Event()
        self.expected = 0

    def queue_workload(self, workload: ExecuteTask) -> str | None:
        self.marks["queued"][workload.try_key] = time.perf_counter()
        return super().queue_workload(workload)

    def _on_launch(self, result: LaunchResult) -> None:
        self.marks["created"][result.request.key] = time.perf_counter()
        super()._on_launch(result)

    def _on_event(self, event_type: str, pod: dict[str, Any]) -> None:
        key = try_key_of(pod)
        phase = (pod.get("status") or {}).get("phase")
        if key is not None and phase in ("Succeeded", "Failed"):
            self.marks["watched"].setdefault(key, time.perf_counter())
        super()._on_event(event_type, pod)

    def _emit(self, event: TaskEvent) -> None:
        if event.ended:
            self.marks["emitted"][event.key] = time.perf_counter()
            if len(self.marks["emitted"]) >= self.expected:
                self.done.set()
        super()._emit(event)


def _serve_api(work: str, history: int, ready: Any, stop: Any, out: str) -> None:
    """Child process: the fake API server, with a tap recording (wall clock) when each pod's terminal
    status was stored. Server, kubelet and executor each get a process: none shares a GIL with another."""
    server = FakeKubernetes(Path(work), history_size=history).start()
    server.write_kubeconfig()
    stored: dict[str, float] = {}
    store = server.store
    publish = store._publish  # a measuring tap on the fake, not on the executor

    def tap(event: Any) -> None:
        if event.resource == "pods" and (event.obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            stored.setdefault(event.obj["metadata"]["name"], time.time())
        publish(event)

    store._publish = tap  # type: ignore[method-assign]
    ready.set()
    stop.wait()
    server.stop()
    Path(out).write_text(json.dumps(stored))


def _serve_kubelet(work: str, stop: Any) -> None:
    kubelet = ProcessKubelet(KubeletConfig(api_url=(Path(work) / "url").read_text(),
                                           log_dir=Path(work) / "node-logs")).start()
    stop.wait()
    kubelet.stop()


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def bench_executor(n: int, concurrency: int, parallelism: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="tw-bench-k8s-"))
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    out = work / "stored.json"
    child = ctx.Process(target=_serve_api, args=(str(work / "cluster"), 20 * n, ready, stop, str(out)))
    child.start()
    kubelet = None
    try:
        if not ready.wait(60):
            raise SystemExit("the fake API server did not start")
        kubeconfig = yaml.safe_load((work / "cluster" / "kubeconfig").read_text())
        (work / "cluster" / "url").write_text(kubeconfig["clusters"][0]["cluster"]["server"])
        kubelet = ctx.Process(target=_serve_kubelet, args=(str(work / "cluster"), stop))
        kubelet.start()
        settings = KubernetesSettings(config_file=work / "cluster" / "kubeconfig", context="tradewind-fake",
                                      image="noop:1", pod_creation_concurrency=concurrency,
                                      worker_pods_pending_timeout=600)
        executor = TimedExecutor(parallelism, settings=settings, log_folder=work / "logs")
        executor.expected = n
        executor.start()
        override = {"pod_override": {"spec": {"containers": [{"name": "base", "command": ["true"]}]}}}
        workloads = [ExecuteTask(dag_id="bench", task_id=f"t{i}", run_id="r", executor_config=override)
                     for i in range(n)]
        started, cpu_before = time.perf_counter(), time.process_time()
        for workload in workloads:
            executor.queue_workload(workload)
        finished = executor.done.wait(600)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        executor.stop(wait=True)
        stop.set()
        child.join(60)
        kubelet.join(60)
        names = {w.try_key: pod_name(w) for w in workloads}
        # Wall-clock times from the child, made comparable with our perf_counter marks.
        offset = time.perf_counter() - time.time()
        stored = {k: t + offset for k, name in names.items() if (t := json.loads(out.read_text()).get(name))}
        m = executor.marks
        keys = [w.try_key for w in workloads if w.try_key in m["emitted"] and w.try_key in m["watched"]]
        create = [m["created"][k] - m["queued"][k] for k in keys]
        keys = [k for k in keys if k in stored]
        delivery = [m["watched"][k] - stored[k] for k in keys]
        react = [m["emitted"][k] - m["watched"][k] for k in keys]
        cluster_time = [stored[k] - m["created"][k] for k in keys]
        created_span = max(m["created"].values()) - min(m["queued"].values())
        print(f"executor mode: {n} pods running `true`, pod_creation_concurrency={concurrency}"
              f"{'' if finished else '  (TIMED OUT)'}")
        print(f"  all {n} tries reported in         {wall:7.2f} s")
        print(f"  pods created per second          {n / created_span:7.1f} /s  ({created_span:.2f} s for {n})")
        print(f"  executor: queue -> pod created   {_ms(create)}  (includes waiting for a creation slot)")
        print(f"  watch: status stored -> received {_ms(delivery)}")
        print(f"  executor: watch event -> emitted {_ms(react)}")
        print(f"  executor CPU per try             {cpu / n * 1000:7.1f} ms  (create, watch, log copy, delete)")
        print(f"  cluster: created -> status final {_ms(cluster_time)}  (kubelet + process start + exit)")
    finally:
        stop.set()
        child.join(10)
        if kubelet is not None:
            kubelet.join(10)
        shutil.rmtree(work, ignore_errors=True)


DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("bench_k8s_fanout", schedule=None, start_date=datetime(2026, 1, 1), max_active_tasks={n}):
    for i in range({n}):
        BashOperator(task_id=f"t{{i}}", bash_command="true")
"""


def _postgres_database() -> tuple[str, Any]:
    """A fresh PostgreSQL database (and how to drop it): 200 runners writing at once need a server."""
    import psycopg

    admin = os.environ.get("TRADEWIND_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"tw_bench_k8s_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


def bench_scheduler(n: int, concurrency: int, parallelism: int, *, postgres: bool) -> None:
    # Only this mode needs the database.
    from sqlalchemy import text

    from tradewind.store import task_instances
    from tradewind.store.engine import make_engine, make_session_factory

    home = Path(tempfile.mkdtemp(prefix="tw-bench-k8s-home-"))
    (home / "dags").mkdir()
    (home / "logs").mkdir()
    (home / "dags" / "fanout.py").write_text(textwrap.dedent(DAG.format(n=n)))
    db_url, drop_db = _postgres_database() if postgres else (f"sqlite:///{home / 'tradewind.db'}", None)
    cluster = FakeCluster(home / "cluster", history_size=20 * n,
                          claim_dirs={"dags": home / "dags", "logs": home / "logs"},
                          image_env={"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}).start()
    cluster.server.create_secret("default", "db", {"TRADEWIND__DATABASE__URL": db_url})
    cluster.server.create_configmap("default", "cfg", {"TRADEWIND_HOME": str(home)})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__DATABASE__URL": db_url,
        "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
        "TRADEWIND__CORE__PARALLELISM": str(parallelism),
        "TRADEWIND__CORE__EXECUTOR": "kubernetes",
        "TRADEWIND__KUBERNETES__CONFIG_FILE": str(cluster.kubeconfig_path),
        "TRADEWIND__KUBERNETES__IMAGE": "tradewind:bench",
        "TRADEWIND__KUBERNETES__POD_CREATION_CONCURRENCY": str(concurrency),
        "TRADEWIND__KUBERNETES__ENV_FROM_SECRET": "db",
        "TRADEWIND__KUBERNETES__ENV_FROM_CONFIGMAP": "cfg",
        "TRADEWIND__KUBERNETES__DAGS_VOLUME_CLAIM": "dags",
        "TRADEWIND__KUBERNETES__DAGS_MOUNT_PATH": str(home / "dags"),
        "TRADEWIND__KUBERNETES__LOGS_VOLUME_CLAIM": "logs",
        "TRADEWIND__KUBERNETES__LOGS_MOUNT_PATH": str(home / "logs"),
    }
    scheduler = None
    try:
        subprocess.run([TRADEWIND, "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([TRADEWIND, "dag-processor", "--once"], env=env, check=False, capture_output=True)
        log = (home / "scheduler.log").open("ab")
        scheduler = subprocess.Popen([TRADEWIND, "scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(2)  # let it register and start its watch before the clock starts
        started = time.perf_counter()
        run_id = subprocess.run([TRADEWIND, "dags", "trigger", "bench_k8s_fanout"], env=env, check=True,
                                capture_output=True, text=True).stdout.strip()
        engine = make_engine(db_url)
        state = None
        while time.perf_counter() - started < 1800:
            with engine.connect() as conn:
                state = conn.execute(text("SELECT state FROM dag_run WHERE run_id = :r"), {"r": run_id}).scalar()
            if state in ("success", "failed"):
                break
            time.sleep(0.1)
        wall = time.perf_counter() - started
        with make_session_factory(engine)() as session:
            tis, _count = task_instances.list_task_instances(session=session, run_id=run_id)
            rows = [(ti.queued_at, ti.start_date, ti.end_date) for ti in tis]
            failures = sorted({f"{ti.state}: {ti.state_reason}" for ti in tis if ti.state != "success"})
        to_start = [(s - q).total_seconds() for q, s, _e in rows if q and s]
        ran = [(e - s).total_seconds() for _q, s, e in rows if s and e]
        print(f"scheduler mode: {n} BashOperator('true') tasks, one pod each running `tradewind tasks run`, "
              f"{'PostgreSQL' if postgres else 'SQLite'}")
        print(f"  trigger -> run {state} in       {wall:7.2f} s   ({n / wall:.1f} tasks/s)")
        print(f"  queued -> runner started        {_ms(to_start)}  (pod creation + interpreter start)")
        print(f"  runner start -> end             {_ms(ran)}")
        for failure in failures[:5]:
            print(f"  not successful: {failure}")
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(60)
        cluster.stop()
        if drop_db is not None:
            drop_db()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--mode", choices=["executor", "scheduler", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=8, help="kubernetes.pod_creation_concurrency")
    parser.add_argument("--parallelism", type=int, default=200, help="core.parallelism")
    parser.add_argument("--sqlite", action="store_true", help="scheduler mode on SQLite instead of PostgreSQL")
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"  {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.mode in ("executor", "both"):
        bench_executor(args.tasks, args.concurrency, args.parallelism)
    if args.mode in ("scheduler", "both"):
        bench_scheduler(args.tasks, args.concurrency, args.parallelism, postgres=not args.sqlite)


if __name__ == "__main__":
    main()
