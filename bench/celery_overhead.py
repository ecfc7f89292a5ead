"""Benchmark (issue 17): what Celery itself costs per try, without a scheduler, a database or a runner.

    .venv/bin/python bench/celery_overhead.py [--tries 200] [--broker URL] [--src PATH]

A CeleryExecutor in this process keeps 8 tries in flight on 2 workers x concurrency 4 (``run_worker`` with a
try launcher whose tries return 0 at once: each try is still forked from the pool process). Printed: wall
time and CPU seconds (user + system, /proc) per try of this process (the executor: sends, result reads) and
of each worker's process tree (its main process, pool processes and forked tries). 16 tries first warm the
workers up. The broker defaults to Redis DB 9; this run's keys are deleted afterwards. ``--src`` runs another
copy of the code (``PYTHONPATH``, here and in the workers), to compare old and new in one sitting.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def noop_try(settings: Any, workload: Any) -> int:
    return 0


def serve_worker(hostname: str) -> int:
    """The worker process: ``run_worker`` with tries that do nothing."""
    from tradewind.config.settings import load_settings
    from tradewind.executors.celery.worker import run_worker
    from tradewind.executors.try_launcher import TryLauncher
    from tradewind.runner.fork_preload import FORK_PRELOAD

    launcher = TryLauncher(run=noop_try, preload=FORK_PRELOAD)
    return run_worker(
        load_settings(), concurrency=4, hostname=hostname, loglevel="WARNING", launcher=launcher
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tries", type=int, default=200)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--src", help="PYTHONPATH for Tradewind: another copy of the code")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run as a worker named so
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, args.src)
    if args.worker:
        return serve_worker(args.worker)

    import redis
    from celery_fanout import CpuSpan
    from pydantic import SecretStr

    from tradewind.config.settings import CelerySettings
    from tradewind.core.events import TryProcessEvent
    from tradewind.core.workload import ExecuteTask
    from tradewind.executors.celery.executor import CeleryExecutor

    token = uuid.uuid4().hex[:10]
    queue = f"tw-overhead-{token}"
    home = Path(tempfile.mkdtemp(prefix="tw-celery-overhead-"))
    (home / "dags").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__CELERY__BROKER_URL": args.broker,
        "TRADEWIND__CELERY__DEFAULT_QUEUE": queue,
        "TRADEWIND__LOGGING__LEVEL": "WARNING",
    }
    if args.src:
        env["PYTHONPATH"] = args.src
    workers = []
    for i in range(2):
        log = open(home / f"worker{i}.log", "wb")  # noqa: SIM115 - lives with the process
        command = [sys.executable, __file__, "--worker", f"overhead{i}-{token}@localhost"]
        if args.src:
            command += ["--src", args.src]
        workers.append(
            subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    settings = CelerySettings(broker_url=SecretStr(args.broker), default_queue=queue)
    executor = CeleryExecutor(settings, parallelism=8)
    woken = threading.Event()
    executor.wake = woken.set
    executor.start()

    def run(run_id: str, n: int) -> None:
        sent = ended = 0
        deadline = time.monotonic() + 600
        while ended < n:
            if time.monotonic() > deadline:
                raise SystemExit(f"tries did not end in time; worker logs in {home}")
            while sent < n and executor.open_slots() > 0:
                executor.queue_workload(ExecuteTask(dag_id="overhead", task_id=f"t{sent}", run_id=run_id))
                sent += 1
            woken.wait(1.0)
            woken.clear()
            for event in executor.get_events():
                if event.ended:
                    assert event.kind == TryProcessEvent.EXITED_CLEANLY, event
                    ended += 1

    try:
        run(f"warm-{token}", 16)
        span = CpuSpan({proc.pid: f"worker{i}" for i, proc in enumerate(workers)})
        span.start()
        cpu, wall = time.process_time(), time.perf_counter()
        run(f"measured-{token}", args.tries)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        per = {**span.end(), "executor (this process)": cpu}
    finally:
        executor.stop(wait=False)
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
        client = redis.Redis.from_url(args.broker)
        for key in client.scan_iter(match=f"*{token}*"):
            client.delete(key)
        for key in client.scan_iter(match="celery-task-meta-*"):
            value = client.get(key)
            if value is not None and token.encode() in value:
                client.delete(key)
        shutil.rmtree(home, ignore_errors=True)

    n = args.tries
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{n} no-op tries: wall {wall:.2f} s ({wall / n * 1000:.1f} ms/try), "
        f"CPU {sum(per.values()):.2f} s ({sum(per.values()) / n * 1000:.2f} ms/try)"
    )
    for label, used in sorted(per.items(), key=lambda item: -item[1]):
        if abs(used) / n * 1000 >= 0.05:
            print(f"    {used / n * 1000:7.2f} ms/try  {label}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(main())
