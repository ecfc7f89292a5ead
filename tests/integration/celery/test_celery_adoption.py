"""A new executor (a restarted scheduler) adopts the tries an earlier one sent and learns their fate."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from tests.integration.celery.celery_harness import (
    SHARED_REDIS,
    Broker,
    EventLog,
    MakeExecutor,
    StartWorker,
    workload,
)
from tests.waiting import wait_for

from tradewind.core.events import TryProcessEvent
from tradewind.executors.base import AdoptionCandidate


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("rabbitmq+redis", marks=[pytest.mark.rabbitmq, pytest.mark.redis])])
def persistent_broker(request: pytest.FixtureRequest) -> Broker:
    """Redis alone, and RabbitMQ with results in Redis (the configuration docs/celery.md recommends)."""
    if request.param == "redis":
        redis_broker: Broker = request.getfixturevalue("redis_broker")
        return redis_broker
    rabbit: Broker = request.getfixturevalue("rabbitmq_broker")
    request.getfixturevalue("redis_broker")  # cleans the shared Redis DB of this test's results
    rabbit.settings = rabbit.settings.model_copy(update={"result_backend": SecretStr(SHARED_REDIS)})
    rabbit.env["TRADEWIND__CELERY__RESULT_BACKEND"] = SHARED_REDIS
    return rabbit


def test_restarted_executor_adopts_sent_tries_and_returns_unknown_ones(
    persistent_broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor
) -> None:
    broker = persistent_broker
    start_worker(broker, tag="a", queues=[broker.settings.default_queue])
    before = make_executor(broker)
    running, finished = workload(broker, "sleep_3"), workload(broker, "quick")
    never_sent = workload(broker, "never_sent")
    running_id = before.queue_workload(running)
    before.queue_workload(finished)
    log = EventLog(before)
    wait_for(
        lambda: {(e.key, e.kind) for e in log.poll()}
        >= {(running.try_key, TryProcessEvent.STARTED), (finished.try_key, TryProcessEvent.EXITED_CLEANLY)},
        timeout=30,
        what="one try running and one finished",
    )
    before.stop(wait=False)

    after = make_executor(broker)
    not_adopted = after.adopt([
        AdoptionCandidate(running, running_id),
        AdoptionCandidate(finished, None),  # no id recorded: found by the id derived from the try key
        AdoptionCandidate(never_sent, None),
    ])

    assert not_adopted == [never_sent]
    # Both adopted ones are followed: each ends with its final event from the new executor. (Which of them is
    # still in flight at any one moment is not the point: the finished one may already be settled by the
    # executor's first poll of the backend, right after ``adopt``.)
    finals = EventLog(after).wait_final([running.try_key, finished.try_key], timeout=30)
    assert finals[running.try_key].kind == TryProcessEvent.EXITED_CLEANLY
    assert finals[finished.try_key].kind == TryProcessEvent.EXITED_CLEANLY


@pytest.mark.rabbitmq
def test_with_rpc_results_nothing_is_adopted(rabbitmq_broker: Broker, make_executor: MakeExecutor) -> None:
    # rpc:// replies go to the process that sent the task; a new scheduler can never see them.
    executor = make_executor(rabbitmq_broker)
    candidates = [AdoptionCandidate(workload(rabbitmq_broker, "t"), "some-id")]
    assert executor.adopt(candidates) == [c.workload for c in candidates]
