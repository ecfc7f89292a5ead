"""A try the broker will not take is reported at once, as never started, without the broker's password."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr
from tests.integration.celery.celery_harness import EventLog, free_port

from tradewind.config.settings import CelerySettings
from tradewind.core.events import TryProcessEvent
from tradewind.core.workload import ExecuteTask
from tradewind.executors.celery.executor import CeleryExecutor


@pytest.mark.parametrize("scheme", ["redis://:s3cret@127.0.0.1:{port}/0", "amqp://guest:s3cret@127.0.0.1:{port}//"])
def test_an_unreachable_broker_fails_the_try_as_never_started(
    scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = scheme.format(port=free_port())  # nothing listens there
    executor = CeleryExecutor(CelerySettings(broker_url=SecretStr(url)), parallelism=4, poll_interval=0.1)
    executor.start()
    try:
        with caplog.at_level(logging.DEBUG):
            w = ExecuteTask(dag_id="d", task_id="t", run_id="r")
            executor.queue_workload(w)
            event = EventLog(executor).wait_final([w.try_key], timeout=60)[w.try_key]
    finally:
        executor.stop(wait=False)

    assert event.kind == TryProcessEvent.FAILED and event.never_started
    assert event.reason is not None and ":**@127.0.0.1" in event.reason
    assert "s3cret" not in event.reason
    assert "s3cret" not in caplog.text
    assert executor.running_keys() == set()
