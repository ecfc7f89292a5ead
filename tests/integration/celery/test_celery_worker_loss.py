"""A worker SIGKILLed mid-task: its runner does not outlive it, the broker redelivers the message to another
worker (late acks), and the try is never run twice at the same time."""

from __future__ import annotations

import os
import signal

import pytest
from tests.integration.celery.celery_harness import (
    Broker,
    EventLog,
    Journal,
    MakeExecutor,
    RedisServer,
    StartWorker,
    make_broker,
    workload,
)
from tests.waiting import wait_for


@pytest.fixture(params=[pytest.param("redis", marks=[pytest.mark.redis]),
                        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def killable_broker(request: pytest.FixtureRequest, token: str) -> Broker:
    """Redis redelivers an unacknowledged message once the visibility timeout passes, so that test gets a
    private server with a 3 s timeout (the shared server's unacked hash is not ours to shorten), and waits
    for kombu's 10 s sweep; RabbitMQ redelivers as soon as the connection drops."""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("private_redis")
        return make_broker("redis", token, server.url, visibility_timeout=3)
    rabbit: Broker = request.getfixturevalue("rabbitmq_broker")
    return rabbit


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_sigkilled_worker_message_is_redelivered_and_never_runs_twice_at_once(
    killable_broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor, journal: Journal
) -> None:
    broker = killable_broker
    queue = [broker.settings.default_queue]
    doomed = start_worker(broker, tag="a", queues=queue, concurrency=1)
    executor = make_executor(broker)
    w = workload(broker, "sleep_20")
    executor.queue_workload(w)
    first = wait_for(lambda: journal.entries("start"), timeout=30, what="try to start on worker a")[0]
    assert first["tag"] == "a"
    start_worker(broker, tag="b", queues=queue, concurrency=1)

    os.kill(doomed.proc.pid, signal.SIGKILL)

    wait_for(lambda: not _alive(first["pid"]), timeout=15, what="runner of the killed worker to stop")
    terminated = journal.entries("terminated")
    assert [t["tag"] for t in terminated] == ["a"]
    redelivered = wait_for(lambda: journal.entries("claim_failed"), timeout=40,
                           what="message to be redelivered to worker b")[0]
    assert redelivered["tag"] == "b"
    # The second delivery began only after the first runner had stopped, and the runner's claim kept it
    # from starting the task's work again.
    assert redelivered["time"] > terminated[0]["time"]
    assert len(journal.entries("start")) == 1
    # The executor does not lose the try: it reports how the redelivered message ended.
    EventLog(executor).wait_final([w.try_key], timeout=30)
