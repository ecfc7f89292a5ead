"""Tries reach the worker consuming their queue, run through the runner command, and report their outcome."""

from __future__ import annotations

from tests.integration.celery.celery_harness import (
    Broker,
    EventLog,
    Journal,
    MakeExecutor,
    StartWorker,
    workload,
)

from tradewind.core.events import TryProcessEvent
from tradewind.executors.celery.task_ids import celery_task_id


def test_each_try_runs_on_the_worker_of_its_queue(
    broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor, journal: Journal
) -> None:
    start_worker(broker, tag="a", queues=[broker.queue("alpha")])
    start_worker(broker, tag="b", queues=[broker.queue("beta")])
    executor = make_executor(broker)
    tries = [workload(broker, f"t{i}", queue="alpha" if i % 2 else "beta") for i in range(4)]
    external_ids = [executor.queue_workload(w) for w in tries]

    assert external_ids == [celery_task_id(w.try_key) for w in tries]
    finals = EventLog(executor).wait_final([w.try_key for w in tries], timeout=60)

    assert {e.kind for e in finals.values()} == {TryProcessEvent.EXITED_CLEANLY}
    ran_on = {row["task_id"]: row["tag"] for row in journal.entries("start")}
    assert ran_on == {"t0": "b", "t1": "a", "t2": "b", "t3": "a"}
    assert executor.running_keys() == set()


def test_running_is_reported_before_the_outcome_and_failures_carry_the_exit_code(
    broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor
) -> None:
    start_worker(broker, tag="a", queues=[broker.settings.default_queue])
    executor = make_executor(broker)
    slow, failing = workload(broker, "sleep_1.5"), workload(broker, "exit_3")
    executor.queue_workload(slow)
    executor.queue_workload(failing)
    log = EventLog(executor)
    finals = log.wait_final([slow.try_key, failing.try_key], timeout=60)

    assert finals[slow.try_key].kind == TryProcessEvent.EXITED_CLEANLY
    assert finals[failing.try_key].kind == TryProcessEvent.FAILED
    assert "exited with code 3" in (finals[failing.try_key].reason or "")
    slow_kinds = [e.kind for e in log.events if e.key == slow.try_key]
    assert slow_kinds == [TryProcessEvent.STARTED, TryProcessEvent.EXITED_CLEANLY]


def test_a_resend_of_a_try_in_flight_is_not_run_twice(
    broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor, journal: Journal
) -> None:
    start_worker(broker, tag="a", queues=[broker.settings.default_queue])
    executor = make_executor(broker)
    w = workload(broker, "sleep_1")
    first = executor.queue_workload(w)
    second = executor.queue_workload(w)
    EventLog(executor).wait_final([w.try_key], timeout=60)

    assert first == second
    assert len(journal.entries("start")) == 1
    assert journal.entries("claim_failed") == []
