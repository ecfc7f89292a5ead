"""Celery queue depth as a scraper sees it, against a real broker: tries sent that no worker has started
count per queue, and fall back to zero once a worker consumes them."""

from __future__ import annotations

import pytest
from tests.integration.celery.celery_harness import (
    Broker,
    EventLog,
    MakeExecutor,
    StartWorker,
    workload,
)
from tests.waiting import wait_for

from tradewind.core.events import TryProcessEvent
from tradewind.observability.metrics import Metrics
from tradewind.observability.metrics_prometheus import PrometheusExporter

pytestmark = pytest.mark.redis


def test_queue_depth_follows_the_broker(
    redis_broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor
) -> None:
    broker = redis_broker
    exporter = PrometheusExporter()
    executor = make_executor(broker)
    executor.metrics = Metrics([exporter])
    queue = broker.settings.default_queue
    tries = [workload(broker, f"ok{i}") for i in range(3)]
    for w in tries:
        executor.queue_workload(w)

    def depth() -> float | None:
        executor.sync()
        return exporter.registry.get_sample_value("tradewind_celery_queued_tasks", {"queue": queue})

    wait_for(lambda: depth() == 3, timeout=30, what="three tries waiting in the broker")
    start_worker(broker, tag="a", queues=[queue])
    finals = EventLog(executor).wait_final([w.try_key for w in tries], timeout=90)
    assert {e.kind for e in finals.values()} == {TryProcessEvent.EXITED_CLEANLY}
    wait_for(lambda: depth() == 0, timeout=30, what="the queue depth back to zero")
