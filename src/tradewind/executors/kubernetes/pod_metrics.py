"""What the Kubernetes executor records about its pods: created, pending, failed by reason."""

from __future__ import annotations

import re

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.executors.kubernetes.pod_tracker import PodTracker, Stage
from tradewind.observability.metrics import Metrics

_FIRST_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def failure_label(reason: str | None) -> str:
    """A bounded label from a failure text: Kubernetes' reason word (OOMKilled, Evicted, ImagePullBackOff,
    Unschedulable ...), ``Error`` for a non-zero exit, ``Unknown`` without one."""
    match = _FIRST_WORD.match(reason or "")
    if match is None:
        return "Unknown"
    word = match.group(0)
    return "Error" if word == "exit" else word[:64]


def record_event(metrics: Metrics, event: TaskEvent) -> None:
    if event.kind == TryProcessEvent.FAILED:
        metrics.incr("kubernetes_executor.pods_failed", reason=failure_label(event.reason))


def record_pending(metrics: Metrics, tracker: PodTracker) -> None:
    pending = sum(
        1
        for namespace in tracker.namespaces()
        for tracked in tracker.snapshot(namespace)
        if tracked.stage in (Stage.CREATING, Stage.PENDING)
    )
    metrics.gauge("kubernetes_executor.pods_pending", pending)
