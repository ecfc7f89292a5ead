"""Real brokers and real `tradewind celery worker` processes for the Celery executor tests.

Redis tests use the shared server's DB 5 and delete only the keys they made (their queue names and results
carry a per-test token). RabbitMQ tests each get their own virtual host, deleted afterwards. Tests that must
restart Redis or shorten its visibility timeout get a private redis-server on a free port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from tests.integration.celery.celery_harness import (
    RABBIT_ROOT,
    SHARED_REDIS,
    TRADEWIND,
    Broker,
    Journal,
    RedisServer,
    StartWorker,
    Worker,
    make_broker,
    stop_workers,
    worker_is_ready,
)
from tests.waiting import wait_for

from tradewind.executors.celery.executor import CeleryExecutor

FAKE_RUNNER = Path(__file__).with_name("fake_runner.py")


def _cleanup_shared_redis(token: str) -> None:
    client = redis.Redis.from_url(SHARED_REDIS)
    for key in client.scan_iter(match=f"*{token}*", count=1000):
        client.delete(key)
    for key in client.scan_iter(match="celery-task-meta-*", count=1000):
        value = client.get(key)
        if value is not None and token.encode() in value:
            client.delete(key)
    # Messages a killed worker left unacknowledged would be restored into our (deleted) queues later.
    for tag, payload in client.hgetall("unacked").items():
        if token.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def redis_broker(token: str) -> Iterator[Broker]:
    try:
        redis.Redis.from_url(SHARED_REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {SHARED_REDIS}: {exc}")
    yield make_broker("redis", token, SHARED_REDIS)
    _cleanup_shared_redis(token)


@pytest.fixture
def rabbitmq_vhost(token: str) -> Iterator[str]:
    """A fresh RabbitMQ virtual host (isolates queues, broadcasts and connections); its broker URL."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not installed")
    vhost = f"tw-{token}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def rabbitmq_broker(token: str, rabbitmq_vhost: str) -> Broker:
    """RabbitMQ with the default result backend (rpc://)."""
    return make_broker("rabbitmq", token, f"{RABBIT_ROOT}/{rabbitmq_vhost}")


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request: pytest.FixtureRequest) -> Broker:
    """Each test once on Redis (broker and results) and once on RabbitMQ (results over rpc://)."""
    name = "redis_broker" if request.param == "redis" else "rabbitmq_broker"
    broker: Broker = request.getfixturevalue(name)
    return broker


def _redis_server(directory: Path, *, persistent: bool) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    directory.mkdir()
    server = RedisServer(directory, persistent=persistent)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server that keeps its data across a restart."""
    yield from _redis_server(tmp_path / "redis", persistent=True)


@pytest.fixture
def forgetful_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server without persistence: a restart loses everything in it."""
    yield from _redis_server(tmp_path / "forgetful-redis", persistent=False)




@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    directory = tmp_path / "journal"
    directory.mkdir()
    return Journal(directory)


@pytest.fixture
def start_worker(tmp_path: Path, tw_home: Path, journal: Journal) -> Iterator[StartWorker]:
    """Start `tradewind celery worker` as a real process; wait until it answers. ``runner`` is "fake" (the
    stand-in fake_runner.py, the default), "fork" (no --runner-executable: the real runner, forked) or a
    program path given as --runner-executable (the real runner exec'd when it is the tradewind script)."""
    workers: list[Worker] = []
    wrapper = tmp_path / "fake-tradewind"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_RUNNER}" "$@"\n')
    wrapper.chmod(0o755)

    def start(broker: Broker, *, tag: str, queues: list[str], concurrency: int = 2,
              runner: str = "fake", extra_env: dict[str, str] | None = None,
              without_env: tuple[str, ...] = ()) -> Worker:
        hostname = f"{tag}-{broker.token}@localhost"
        log_path = tmp_path / f"worker-{tag}.log"
        env = {**os.environ, **broker.env, "FAKE_RUNNER_JOURNAL": str(journal.directory),
               "FAKE_WORKER_TAG": tag, **(extra_env or {})}
        for name in without_env:
            env.pop(name, None)
        cmd = [TRADEWIND, "celery", "worker", "--queues", ",".join(queues), "--concurrency", str(concurrency),
               "--hostname", hostname, "--loglevel", "INFO"]
        if runner != "fork":
            cmd += ["--runner-executable", str(wrapper) if runner == "fake" else runner]
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(proc, hostname, log_path)
        workers.append(worker)

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"worker {hostname} exited with {proc.returncode}:\n{worker.log()}")
            return worker_is_ready(broker.settings, hostname)

        wait_for(ready, timeout=60, what=f"worker {hostname} to answer a ping", interval=0.3)
        return worker

    yield start
    stop_workers(workers)


@pytest.fixture
def make_executor() -> Iterator[Callable[[Broker], CeleryExecutor]]:
    executors: list[CeleryExecutor] = []

    def make(broker: Broker) -> CeleryExecutor:
        executor = CeleryExecutor(broker.settings, parallelism=32, poll_interval=0.1)
        executor.start()
        executors.append(executor)
        return executor

    yield make
    for executor in executors:
        executor.stop(wait=False)


