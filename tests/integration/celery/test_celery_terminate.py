"""terminate(key) reaches the worker and stops the runner and everything it started."""

from __future__ import annotations

import os

from tests.integration.celery.celery_harness import (
    Broker,
    EventLog,
    Journal,
    MakeExecutor,
    StartWorker,
    workload,
)
from tests.waiting import wait_for

from tradewind.core.events import TryProcessEvent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose; only its parent can reap it.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_terminate_stops_the_runner_and_its_children(
    broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor, journal: Journal
) -> None:
    start_worker(broker, tag="a", queues=[broker.settings.default_queue])
    executor = make_executor(broker)
    w = workload(broker, "sleep_60")
    executor.queue_workload(w)
    child = wait_for(lambda: journal.entries("child"), timeout=30, what="runner to start its child")[0]
    runner_pid, child_pid = child["pid"], child["child_pid"]
    assert _alive(runner_pid) and _alive(child_pid)

    executor.terminate(w.try_key)

    wait_for(lambda: journal.entries("terminated"), timeout=15, what="runner to receive SIGTERM")
    wait_for(lambda: not _alive(runner_pid) and not _alive(child_pid), timeout=15,
             what="runner and its child to be gone")
    final = EventLog(executor).wait_final([w.try_key], timeout=15)[w.try_key]
    assert final.kind == TryProcessEvent.FAILED
    assert final.reason is not None and "terminated" in final.reason
    assert journal.entries("end") == []


def test_terminate_before_a_worker_picks_the_try_up_means_it_never_runs(
    broker: Broker, start_worker: StartWorker, make_executor: MakeExecutor, journal: Journal
) -> None:
    # The worker's only process is busy, so the second try waits in the broker when it is terminated.
    start_worker(broker, tag="a", queues=[broker.settings.default_queue], concurrency=1)
    executor = make_executor(broker)
    busy, waiting = workload(broker, "sleep_2"), workload(broker, "quick")
    executor.queue_workload(busy)
    wait_for(lambda: journal.entries("start"), timeout=30, what="first try to start")
    executor.queue_workload(waiting)
    executor.terminate(waiting.try_key)

    finals = EventLog(executor).wait_final([busy.try_key, waiting.try_key], timeout=30)
    assert finals[busy.try_key].kind == TryProcessEvent.EXITED_CLEANLY
    assert finals[waiting.try_key].kind == TryProcessEvent.FAILED
    assert [row["task_id"] for row in journal.entries("start")] == ["sleep_2"]
