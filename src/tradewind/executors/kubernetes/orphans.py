"""Pods no executor carries: which one of a try's pods to adopt, and which finished pods to settle
(archive their output, then delete or keep them). Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tradewind.core.keys import TaskTryKey
from tradewind.executors.kubernetes.pod_identity import launch_of, owner_of, try_key_of
from tradewind.executors.kubernetes.pod_outcome import PodStage, read_pod
from tradewind.executors.kubernetes.pod_tracker import DeletionPolicy, Finalize

Obj = dict[str, Any]


def pick_adoptable(pods: Sequence[Obj]) -> Obj | None:
    """Of one try's pods, the one to carry on: not being deleted, newest launch."""
    if not pods:
        return None
    return max(pods, key=lambda p: (not p["metadata"].get("deletionTimestamp"), launch_of(p)))


def settle_orphans(
    pods: Sequence[Obj],
    *,
    is_tracked: Callable[[TaskTryKey], bool],
    settle_now_owners: set[str],
    grace: float,
    now: datetime,
    policy: DeletionPolicy,
) -> list[Finalize]:
    """Finished pods nobody tracks. Those of ``settle_now_owners`` (ours, dead schedulers') are settled at
    once; others only once finished longer than ``grace`` (a live owner would have done it by then)."""
    chosen = []
    for pod in pods:
        key = try_key_of(pod)
        if key is None or is_tracked(key) or pod["metadata"].get("deletionTimestamp"):
            continue
        outcome = read_pod(pod)
        if not outcome.finished:
            continue
        if owner_of(pod) not in settle_now_owners and not finished_before(pod, now - timedelta(seconds=grace)):
            continue
        success = outcome.stage == PodStage.SUCCEEDED
        text = "the pod finished while no scheduler watched it" + ("" if success else f": {outcome.reason}")
        delete = policy.deletes(success=success) or outcome.never_started
        chosen.append(Finalize(key, pod, text, delete=delete, failed=not success))
    return chosen


def finished_before(pod: Obj, limit: datetime) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    stamps = [str(done) for s in statuses if (done := ((s.get("state") or {}).get("terminated") or {}).get("finishedAt"))]
    if not stamps and pod["metadata"].get("creationTimestamp"):
        stamps = [str(pod["metadata"]["creationTimestamp"])]
    if not stamps:
        return False
    return max(datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps) < limit
