"""A try whose pod failed to start is launched again under a new pod name, after a growing delay."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.pod_identity import pod_name, worker_annotations, worker_labels
from tradewind.executors.kubernetes.pod_launcher import relaunch_delay
from tradewind.executors.kubernetes.pod_tracker import DeletionPolicy, PodTracker, TrackedTry

WORKLOAD = ExecuteTask(dag_id="etl", task_id="load", run_id="r", try_number=1)
KEY = WORKLOAD.try_key


def pulling_pod(launch: int) -> dict[str, Any]:
    return {
        "metadata": {"name": pod_name(WORKLOAD, launch), "namespace": "default", "uid": f"u{launch}",
                     "creationTimestamp": "2024-01-01T00:00:00Z", "labels": worker_labels(WORKLOAD, "1"),
                     "annotations": worker_annotations(WORKLOAD, launch)},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "base", "state": {
            "waiting": {"reason": "ErrImagePull"}}}]},
    }


def launch_and_fail(tracker: PodTracker) -> tuple[int, int, str]:
    """What the executor does for one launch whose pod cannot pull its image; returns what it launched."""
    launch, failed_before = tracker.next_launch(KEY)
    tracker.track(TrackedTry(WORKLOAD, "default", pod_name(WORKLOAD, launch), launch=launch))
    tracker.created(KEY, pulling_pod(launch))
    tracker.forget(KEY, f"u{launch}")  # archived and deleted; the scheduler hands the try back
    return launch, failed_before, pod_name(WORKLOAD, launch)


def test_each_launch_gets_the_next_number_and_its_own_name() -> None:
    tracker = PodTracker(DeletionPolicy(), pending_timeout=60, launch_retries=3)
    launches = [launch_and_fail(tracker) for _ in range(4)]
    assert [(n, failed) for n, failed, _name in launches] == [(1, 0), (2, 1), (3, 2), (4, 3)]
    names = [name for _n, _f, name in launches]
    assert len(set(names)) == 4
    assert names == [pod_name(WORKLOAD, n) for n in (1, 2, 3, 4)]  # deterministic per (try, launch)
    # The fourth failure used up the launches: the try ends for the executor and its counters go.
    assert tracker.next_launch(KEY) == (1, 0)


def test_adoption_carries_the_launch_number_on() -> None:
    tracker = PodTracker(DeletionPolicy(), pending_timeout=60, launch_retries=3)
    adopted = pulling_pod(3)
    adopted["status"] = {"phase": "Running", "containerStatuses": [{"name": "base", "state": {"running": {}}}]}
    tracker.adopt(WORKLOAD, adopted, 3)
    tracker.forget(KEY, "u3")
    assert tracker.next_launch(KEY)[0] == 4


def test_a_name_taken_by_a_finished_pod_moves_the_launch_on() -> None:
    tracker = PodTracker(DeletionPolicy(), pending_timeout=60, launch_retries=3)
    tracker.track(TrackedTry(WORKLOAD, "default", pod_name(WORKLOAD, 1), launch=1))
    running = pulling_pod(2)  # the launcher found launch 1's name taken and created launch 2
    running["status"] = {"phase": "Running", "containerStatuses": [{"name": "base", "state": {"running": {}}}]}
    tracker.created(KEY, running)
    tracked = tracker.get(KEY)
    assert tracked is not None and (tracked.launch, tracked.pod_name) == (2, pod_name(WORKLOAD, 2))


@pytest.mark.parametrize("jitter", [0.0, 0.5, 1.0])
def test_relaunch_delays_grow_and_are_capped(jitter: float) -> None:
    delays = [relaunch_delay(n, base=1.0, cap=10.0, rand=lambda: jitter) for n in range(6)]
    assert delays[0] == 0.0  # the first launch does not wait
    uncapped = [d for d in delays[1:] if d < 10.0]
    assert uncapped == sorted(set(uncapped)) and len(uncapped) >= 3  # strictly growing below the cap
    assert max(delays) == 10.0


def test_jitter_never_makes_a_later_delay_shorter() -> None:
    """The longest jitter on one delay is still shorter than the shortest on the next."""
    for n in range(1, 6):
        longest = relaunch_delay(n, base=2.0, cap=1e9, rand=lambda: 1.0)
        shortest_next = relaunch_delay(n + 1, base=2.0, cap=1e9, rand=lambda: 0.0)
        assert longest < shortest_next
