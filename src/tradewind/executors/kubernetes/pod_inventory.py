"""The executor's pods as an operator sees them: listing, and choosing which to clean up (finished pods, and
pods whose try is no longer queued or running)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiException

from tradewind.core.keys import TaskTryKey
from tradewind.executors.kubernetes.pod_api import PodApi
from tradewind.executors.kubernetes.pod_identity import (
    ARCHIVED_ANNOTATION,
    KEPT_LABEL,
    WORKER_LABEL,
    owner_of,
    try_key_of,
)
from tradewind.executors.kubernetes.pod_logs import archive_pod, try_log_file
from tradewind.executors.kubernetes.pod_outcome import read_pod

Obj = dict[str, Any]


@dataclass(frozen=True)
class WorkerPod:
    pod: Obj
    key: TaskTryKey | None

    @property
    def namespace(self) -> str:
        return str(self.pod["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.pod["metadata"]["name"])

    @property
    def finished(self) -> bool:
        return read_pod(self.pod).finished

    def row(self, now: datetime | None = None) -> dict[str, Any]:
        meta = self.pod["metadata"]
        outcome = read_pod(self.pod)
        created = meta.get("creationTimestamp")
        age = None
        if created:
            delta = (now or datetime.now(UTC)) - datetime.fromisoformat(created.replace("Z", "+00:00"))
            age = int(delta.total_seconds())
        key = self.key
        return {
            "namespace": self.namespace,
            "pod": self.name,
            "phase": (self.pod.get("status") or {}).get("phase", "Pending"),
            "dag_id": key.ti.dag_id if key else None,
            "task_id": key.ti.task_id if key else None,
            "run_id": key.ti.run_id if key else None,
            "map_index": key.ti.map_index if key else None,
            "try_number": key.try_number if key else None,
            "owner": owner_of(self.pod),
            "kept": (meta.get("labels") or {}).get(KEPT_LABEL) == "true",
            "terminating": bool(meta.get("deletionTimestamp")),
            "reason": outcome.reason,
            "age_seconds": age,
        }


def list_worker_pods(api: PodApi, namespaces: Sequence[str]) -> list[WorkerPod]:
    """Every Tradewind worker pod in these namespaces, kept ones included."""
    pods: list[WorkerPod] = []
    for namespace in namespaces:
        items, _rv = api.list_pods(namespace, f"{WORKER_LABEL}=true")
        pods += [WorkerPod(p, try_key_of(p)) for p in items]
    return sorted(pods, key=lambda p: (p.namespace, p.pod["metadata"].get("creationTimestamp") or "", p.name))


def cleanup_candidates(
    pods: Sequence[WorkerPod], try_is_live: Callable[[TaskTryKey], bool]
) -> list[tuple[WorkerPod, str]]:
    """Finished pods, and pods whose try the database no longer has queued or running (orphans)."""
    chosen = []
    for pod in pods:
        if pod.pod["metadata"].get("deletionTimestamp"):
            continue
        if pod.finished:
            chosen.append((pod, "finished"))
        elif pod.key is None:
            chosen.append((pod, "orphaned: not labelled with a task try"))
        elif not try_is_live(pod.key):
            chosen.append((pod, "orphaned: its try is no longer queued or running"))
    return chosen


def remove_pod(api: PodApi, pod: WorkerPod, log_folder: Path, why: str, *, shared_log_volume: bool) -> None:
    """Save the pod's output into its try's log (unless already saved), then delete it. With a shared logs
    volume the runner's lines are in the log already: only the outcome (and events) are added."""
    meta = pod.pod["metadata"]
    if pod.key is not None and (meta.get("annotations") or {}).get(ARCHIVED_ANNOTATION) != "true":
        archive_pod(api, pod.pod, try_log_file(log_folder, pod.key), outcome=f"removed by cleanup-pods ({why})",
                    include_events=not pod.finished or read_pod(pod.pod).reason is not None,
                    shared_log_volume=shared_log_volume)
    try:
        api.delete_pod(pod.namespace, pod.name, uid=meta.get("uid"))
    except ApiException as exc:
        if exc.status not in (404, 409):
            raise
