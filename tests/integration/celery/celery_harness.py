"""Helpers for the Celery executor tests: brokers, worker processes, the fake runner's journal, deadlines."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from pydantic import SecretStr
from tests.waiting import wait_for
from tests.warm_cli import TRADEWIND as TRADEWIND  # re-exported: the tests importing it from here

from tradewind.config.settings import CelerySettings
from tradewind.core.events import TaskEvent
from tradewind.core.workload import ExecuteTask
from tradewind.executors.celery.app import build_celery_app
from tradewind.executors.celery.executor import CeleryExecutor

SHARED_REDIS = os.environ.get("TRADEWIND_TEST_REDIS", "redis://127.0.0.1:6379/5")
RABBIT_ROOT = os.environ.get("TRADEWIND_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

@dataclass
class Broker:
    """Where a test's Celery traffic goes, and the settings (and env vars) that point there."""

    kind: str
    token: str
    settings: CelerySettings
    env: dict[str, str] = field(default_factory=dict)

    def queue(self, name: str) -> str:
        return f"tw-{self.token}-{name}"


def _celery_env(settings: CelerySettings) -> dict[str, str]:
    env = {
        "TRADEWIND__CELERY__BROKER_URL": settings.broker_url.get_secret_value(),
        "TRADEWIND__CELERY__VISIBILITY_TIMEOUT": str(settings.visibility_timeout),
        "TRADEWIND__CELERY__DEFAULT_QUEUE": settings.default_queue,
    }
    if settings.result_backend is not None:
        env["TRADEWIND__CELERY__RESULT_BACKEND"] = settings.result_backend.get_secret_value()
    return env


def make_broker(kind: str, token: str, broker_url: str, **settings_fields: Any) -> Broker:
    settings = CelerySettings(
        broker_url=SecretStr(broker_url), default_queue=f"tw-{token}-default", **settings_fields
    )
    return Broker(kind, token, settings, _celery_env(settings))

class RedisServer:
    """A private redis-server that keeps its data across a restart (append-only file), or with
    ``persistent=False`` loses it, as a Redis without persistence does."""

    def __init__(self, directory: Path, *, persistent: bool = True) -> None:
        self.directory = directory
        self.persistent = persistent
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), timeout=10, what="private redis-server to answer")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False

@dataclass
class Journal:
    """What the fake runners did (see fake_runner.py)."""

    directory: Path

    def entries(self, event: str | None = None) -> list[dict[str, Any]]:
        path = self.directory / "journal.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [r for r in rows if event is None or r["event"] == event]

@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    hostname: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stop_workers(workers: list[Worker]) -> None:
    """SIGKILL each worker's process group: pool processes die with their worker and runners get SIGTERM
    (what the tests of a killed worker check), and the test's queues are deleted afterwards anyway."""
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.proc.pid, signal.SIGKILL)
    for worker in workers:
        worker.proc.wait(timeout=10)


def worker_is_ready(settings: CelerySettings, hostname: str) -> bool:
    app = build_celery_app(settings)
    try:
        return bool(app.control.inspect(destination=[hostname], timeout=0.5, limit=1).ping())
    finally:
        app.close()


StartWorker = Callable[..., Worker]

def workload(broker: Broker, task_id: str, *, queue: str = "default", try_number: int = 1,
             run_id: str = "run1") -> ExecuteTask:
    return ExecuteTask(dag_id=f"dag_{broker.token}", task_id=task_id, run_id=run_id, try_number=try_number,
                       queue=broker.queue(queue) if queue != "default" else "default")


class EventLog:
    """Every event an executor reported so far (get_events drains, so tests keep them here)."""

    def __init__(self, executor: CeleryExecutor) -> None:
        self.executor = executor
        self.events: list[TaskEvent] = []

    def poll(self) -> list[TaskEvent]:
        self.events.extend(self.executor.get_events())
        return self.events

    def wait_final(self, keys: list[Any], *, timeout: float) -> dict[Any, TaskEvent]:
        def done() -> dict[Any, TaskEvent] | None:
            finals = {e.key: e for e in self.poll() if e.ended}
            return finals if all(k in finals for k in keys) else None

        result: dict[Any, TaskEvent] = wait_for(done, timeout=timeout, what=f"final events for {keys}")
        return result
MakeExecutor = Callable[[Broker], CeleryExecutor]
