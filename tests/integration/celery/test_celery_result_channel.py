"""With a Redis result backend the executor learns a try's states as the worker stores them (pub/sub), not by
reading the backend: an executor that would read it only once an hour still reports the try's end, and no
subscription outlives the tries in flight."""

from __future__ import annotations

import pytest
import redis
from tests.integration.celery.celery_harness import SHARED_REDIS, Broker, EventLog, StartWorker, workload
from tests.waiting import wait_for

from tradewind.core.events import TryProcessEvent
from tradewind.executors.celery.executor import CeleryExecutor

pytestmark = pytest.mark.redis


def test_a_tries_end_arrives_over_pub_sub_and_its_channel_is_left(
    redis_broker: Broker, start_worker: StartWorker
) -> None:
    start_worker(redis_broker, tag="a", queues=[redis_broker.settings.default_queue])
    # Reads the backend once at start, then only when asked (``sync``, which nothing calls here).
    executor = CeleryExecutor(redis_broker.settings, parallelism=4, poll_interval=3600)
    executor.start()
    try:
        tries = [workload(redis_broker, f"t{i}") for i in range(3)]
        for w in tries:
            executor.queue_workload(w)
        events = EventLog(executor).wait_final([w.try_key for w in tries], timeout=60)
        assert {e.kind for e in events.values()} == {TryProcessEvent.EXITED_CLEANLY}
        assert executor.running_keys() == set()

        client = redis.Redis.from_url(SHARED_REDIS)
        backend = executor.app.backend
        channels = [backend.get_key_for_task(e.external_id) for e in events.values()]

        def unsubscribed() -> bool:
            return all(count == 0 for _, count in client.pubsub_numsub(*channels))

        wait_for(unsubscribed, timeout=30, what="the ended tries' channels to have no subscriber")
    finally:
        executor.stop(wait=False)
