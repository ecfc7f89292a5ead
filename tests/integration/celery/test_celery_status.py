"""`tradewind celery status` lists the workers that answer, their queues and the tries they run."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from tests.integration.celery.celery_harness import (
    TRADEWIND,
    Broker,
    Journal,
    MakeExecutor,
    StartWorker,
    workload,
)
from tests.waiting import wait_for


def _status(broker: Broker, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRADEWIND, "celery", "status", "--timeout", "1", *args],
        env={**os.environ, **broker.env}, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.redis
def test_status_lists_workers_queues_and_active_tries(
    redis_broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor, journal: Journal
) -> None:
    broker = redis_broker
    queues = [broker.queue("alpha"), broker.queue("beta")]
    worker = start_worker(broker, tag="a", queues=queues, concurrency=3)
    executor = make_executor(broker)
    w = workload(broker, "sleep_30", queue="beta")
    executor.queue_workload(w)
    wait_for(lambda: journal.entries("start"), timeout=30, what="try to start")

    done = _status(broker, "-o", "json")

    assert done.returncode == 0, done.stderr
    mine = [entry for entry in json.loads(done.stdout) if entry["worker"] == worker.hostname]
    assert len(mine) == 1
    assert mine[0]["queues"] == sorted(queues)
    assert mine[0]["concurrency"] == 3
    [active] = mine[0]["active"]
    assert (active["dag_id"], active["task_id"], active["run_id"], active["try_number"]) == (
        w.dag_id, w.task_id, w.run_id, 1
    )
    table = _status(broker)
    assert table.returncode == 0 and worker.hostname in table.stdout


@pytest.mark.rabbitmq
def test_status_without_workers_fails_and_masks_the_password(rabbitmq_broker: Broker) -> None:
    done = _status(rabbitmq_broker)

    assert done.returncode == 1
    assert "no Celery worker answered" in done.stderr
    assert "guest:**@" in done.stderr
    assert "guest:guest" not in done.stderr + done.stdout
