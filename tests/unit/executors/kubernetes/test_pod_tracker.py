"""What pod changes mean for the tries the executor carries: events to emit, pods to archive and delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.core.events import TryProcessEvent
from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.pod_identity import worker_annotations, worker_labels
from tradewind.executors.kubernetes.pod_tracker import DeletionPolicy, Emit, Finalize, PodTracker, TrackedTry

WORKLOAD = ExecuteTask(dag_id="d", task_id="t", run_id="r")
CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def pod(phase: str, state: dict[str, Any] | None = None, *, uid: str = "u1", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "d-t-1", "namespace": "default", "uid": uid, "creationTimestamp": "2024-01-01T00:00:00Z",
                     "labels": worker_labels(WORKLOAD, "1"), "annotations": worker_annotations(WORKLOAD, 1)},
        "status": {"phase": phase, "containerStatuses": [{"name": "base", "state": state or {}}], **status},
    }


def tracker(**kwargs: Any) -> PodTracker:
    t = PodTracker(kwargs.pop("policy", DeletionPolicy()), pending_timeout=60, launch_retries=kwargs.pop("retries", 2))
    t.track(TrackedTry(WORKLOAD, "default", "d-t-1"))
    return t


def emits(actions: list[Any]) -> list[tuple[TryProcessEvent, str | None, bool]]:
    return [(a.event.kind, a.event.reason, a.event.never_started) for a in actions if isinstance(a, Emit)]


def finalizes(actions: list[Any]) -> list[Finalize]:
    return [a for a in actions if isinstance(a, Finalize)]


def test_running_is_reported_once_then_success_deletes_the_pod() -> None:
    t = tracker()
    t.created(WORKLOAD.try_key, pod("Pending"))
    running = pod("Running", {"running": {"startedAt": "2024-01-01T00:00:01Z"}})
    assert emits(t.observe("MODIFIED", running)) == [(TryProcessEvent.STARTED, None, False)]
    assert t.observe("MODIFIED", running) == []
    done = t.observe("MODIFIED", pod("Succeeded", {"terminated": {"exitCode": 0, "startedAt": "x"}}))
    assert emits(done) == [(TryProcessEvent.EXITED_CLEANLY, None, False)]
    assert finalizes(done)[0].delete
    assert WORKLOAD.try_key not in t.in_flight()


def test_failed_pods_are_kept_by_default_and_deleted_when_asked() -> None:
    failed = pod("Failed", {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "x"}})
    t = tracker()
    t.created(WORKLOAD.try_key, pod("Running", {"running": {}}))
    assert not finalizes(t.observe("MODIFIED", failed))[0].delete
    t = tracker(policy=DeletionPolicy(delete_worker_pods=True, delete_on_failure=True))
    t.created(WORKLOAD.try_key, pod("Running", {"running": {}}))
    assert finalizes(t.observe("MODIFIED", failed))[0].delete


def test_an_older_pod_of_the_same_try_is_ignored() -> None:
    t = tracker()
    t.created(WORKLOAD.try_key, pod("Pending", uid="new"))
    assert t.observe("MODIFIED", pod("Failed", {"terminated": {"exitCode": 1}}, uid="old")) == []


def test_pending_timeout_fails_with_the_waiting_reason() -> None:
    t = tracker()
    unschedulable = pod("Pending", conditions=[{"type": "PodScheduled", "status": "False",
                                                "reason": "Unschedulable", "message": "no nodes"}])
    assert t.created(WORKLOAD.try_key, unschedulable) == []
    assert t.check_pending(CREATED + timedelta(seconds=30)) == []
    actions = t.check_pending(CREATED + timedelta(seconds=61))
    assert emits(actions) == [(TryProcessEvent.FAILED, "pending for more than 60s: Unschedulable: no nodes", True)]
    assert finalizes(actions)[0].delete


def test_never_started_is_bounded() -> None:
    t = tracker(retries=1)
    pulling = pod("Pending", {"waiting": {"reason": "ErrImagePull"}})
    assert emits(t.created(WORKLOAD.try_key, pulling)) == [(TryProcessEvent.FAILED, "ErrImagePull", True)]
    t.track(TrackedTry(WORKLOAD, "default", "d-t-2", launch=2))
    second = t.created(WORKLOAD.try_key, {**pulling, "metadata": {**pulling["metadata"], "uid": "u2"}})
    assert emits(second) == [(TryProcessEvent.FAILED, "ErrImagePull (its pod failed to start 2 times)", False)]


def test_a_deleted_pod_fails_the_try() -> None:
    t = tracker()
    t.created(WORKLOAD.try_key, pod("Running", {"running": {}}))
    actions = t.observe("DELETED", pod("Running", {"running": {}}))
    assert emits(actions) == [(TryProcessEvent.FAILED, "the pod was deleted before the task finished", False)]
    assert finalizes(actions)[0].pod is None


def test_namespace_slots() -> None:
    t = tracker()
    other = ExecuteTask(dag_id="d", task_id="other", run_id="r")
    t.track(TrackedTry(other, "default", "d-other-1"))
    assert t.reserve_slot(WORKLOAD.try_key, 1)
    assert not t.reserve_slot(other.try_key, 1)
    t.forget(WORKLOAD.try_key, None)
    assert t.reserve_slot(other.try_key, 1)
