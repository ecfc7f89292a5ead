"""Whether a release is up: its workloads and pods read from Kubernetes JSON, and the wait for them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradewind.sdk.errors import DeploymentError

#: Waiting reasons that no amount of waiting fixes: fail at once and say why.
PERMANENT_REASONS = frozenset({"InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"})
#: Reasons that may clear (a slow registry, a crash while a dependency starts) but not if they persist.
PERSISTENT_REASON_GRACE = {
    "ImagePullBackOff": 90.0,
    "ErrImagePull": 90.0,
    "CrashLoopBackOff": 120.0,
    "Unschedulable": 120.0,
}


@dataclass(frozen=True)
class PodState:
    """One pod as a person watching the rollout wants to see it."""

    name: str
    component: str
    phase: str
    ready: bool
    restarts: int = 0
    reason: str | None = None
    message: str | None = None
    container: str | None = None

    @property
    def status(self) -> str:
        if self.phase == "Succeeded":
            return "Completed"
        if self.ready:
            return "Ready"
        return self.reason or self.phase


@dataclass(frozen=True)
class WorkloadState:
    """A Deployment or StatefulSet and how many of its pods are up to date and ready."""

    kind: str
    name: str
    desired: int
    ready: int
    updated: int
    current_generation: bool

    @property
    def done(self) -> bool:
        return self.current_generation and self.ready >= self.desired and self.updated >= self.desired


@dataclass(frozen=True)
class RolloutSnapshot:
    workloads: tuple[WorkloadState, ...]
    pods: tuple[PodState, ...]
    #: Other things still under way (helm itself while it runs the install hooks).
    waiting_for: tuple[str, ...] = ()
    #: Jobs (migrations, admin user) that ran out of retries, with Kubernetes' reason.
    failed_jobs: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return not self.waiting_for and bool(self.workloads) and all(w.done for w in self.workloads)

    def pending(self) -> list[PodState]:
        return [p for p in self.pods if not p.ready and p.phase != "Succeeded"]


def pod_state(pod: Mapping[str, Any]) -> PodState:
    """A pod's readiness and, when it is not ready, the most telling reason among its containers."""
    meta = pod.get("metadata", {})
    status = pod.get("status", {})
    labels = meta.get("labels", {})
    conditions = {c.get("type"): c for c in status.get("conditions", [])}
    ready = conditions.get("Ready", {}).get("status") == "True"
    statuses = [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    reason = message = container = None
    for c in statuses:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "PodInitializing"):
            reason, message, container = waiting.get("reason"), waiting.get("message"), c.get("name")
            break
    if reason is None:
        scheduled = conditions.get("PodScheduled", {})
        if scheduled.get("status") == "False":
            reason, message = scheduled.get("reason") or "Unschedulable", scheduled.get("message")
    if reason is None and status.get("reason"):
        reason, message = status.get("reason"), status.get("message")
    return PodState(
        name=meta.get("name", "?"),
        component=labels.get("app.kubernetes.io/component", "?"),
        phase=status.get("phase", "Pending"),
        ready=ready,
        restarts=restarts,
        reason=reason,
        message=message,
        container=container,
    )


def workload_state(obj: Mapping[str, Any]) -> WorkloadState:
    spec, status, meta = obj.get("spec", {}), obj.get("status", {}), obj.get("metadata", {})
    desired = int(spec.get("replicas", 1))
    return WorkloadState(
        kind=obj.get("kind", "?"),
        name=meta.get("name", "?"),
        desired=desired,
        ready=int(status.get("readyReplicas", 0)),
        updated=int(status.get("updatedReplicas", 0)),
        current_generation=int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0)),
    )


def failed_job(job: Mapping[str, Any]) -> str | None:
    """'NAME: reason' for a Job whose Failed condition is set (its retries are used up), else None."""
    for condition in job.get("status", {}).get("conditions", []):
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            why = condition.get("message") or condition.get("reason") or "failed"
            return f"{job.get('metadata', {}).get('name', '?')}: {why}"
    return None


def snapshot(
    workloads: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    jobs: Sequence[Mapping[str, Any]] = (),
) -> RolloutSnapshot:
    return RolloutSnapshot(
        workloads=tuple(workload_state(w) for w in workloads),
        pods=tuple(sorted((pod_state(p) for p in pods), key=lambda p: (p.component, p.name))),
        failed_jobs=tuple(f for f in (failed_job(j) for j in jobs) if f),
    )


@dataclass
class RolloutWatch:
    """Polls ``fetch`` until every workload is ready, failing early on problems that will not clear."""

    fetch: Callable[[], RolloutSnapshot]
    timeout: float
    namespace: str
    poll_interval: float = 2.0
    on_update: Callable[[RolloutSnapshot], None] = lambda _s: None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _first_seen: dict[tuple[str, str], float] = field(default_factory=dict)

    def run(self) -> RolloutSnapshot:
        deadline = self.clock() + self.timeout
        while True:
            current = self.fetch()
            self.on_update(current)
            if current.done:
                return current
            if problem := self._blocking_problem(current):
                raise DeploymentError(problem)
            if self.clock() >= deadline:
                raise DeploymentError(self._timeout_message(current))
            self.sleep(self.poll_interval)

    def _blocking_problem(self, current: RolloutSnapshot) -> str | None:
        if current.failed_jobs:
            name = current.failed_jobs[0].split(":", 1)[0]
            return (
                f"job {current.failed_jobs[0]}; see `kubectl --namespace {self.namespace} logs job/{name}` "
                "(a failed migration usually means the database is unreachable or the URL is wrong)"
            )
        now = self.clock()
        seen_now = set()
        for pod in current.pending():
            if pod.reason is None:
                continue
            key = (pod.name, pod.reason)
            seen_now.add(key)
            first = self._first_seen.setdefault(key, now)
            grace = 0.0 if pod.reason in PERMANENT_REASONS else PERSISTENT_REASON_GRACE.get(pod.reason)
            if grace is not None and now - first >= grace:
                return f"pod {pod.name} is stuck: {pod.reason}{_detail(pod)}; {self._hint(pod)}"
        for key in set(self._first_seen) - seen_now:
            del self._first_seen[key]
        return None

    def _timeout_message(self, current: RolloutSnapshot) -> str:
        waiting = [f"{w.kind} {w.name} {w.ready}/{w.desired} ready" for w in current.workloads if not w.done]
        pods = [f"{p.name}: {p.status}{_detail(p)}" for p in current.pending()]
        waiting += list(current.waiting_for)
        return (
            f"the release was not ready after {self.timeout:.0f}s: "
            + ("; ".join(waiting) or "no workloads found")
            + (f" (pods: {'; '.join(pods)})" if pods else "")
            + f"; see `kubectl --namespace {self.namespace} describe pods`"
        )

    def _hint(self, pod: PodState) -> str:
        ns = self.namespace
        if pod.reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"):
            return (
                "check --image and --tag, that the image was pushed to a registry the cluster can pull from "
                "(kind: `kind load docker-image`), and image.pullSecrets"
            )
        if pod.reason == "Unschedulable":
            return (
                f"check `kubectl --namespace {ns} get pvc`: ReadWriteMany and ReadOnlyMany claims need a "
                "storage class that offers them (on a one-node cluster such as kind, set the accessMode "
                "values to ReadWriteOnce), and that nodes have room for the requested resources"
            )
        if pod.reason == "CrashLoopBackOff":
            container = f" -c {pod.container}" if pod.container else ""
            return f"see `kubectl --namespace {ns} logs {pod.name}{container} --previous`"
        return f"see `kubectl --namespace {ns} describe pod {pod.name}`"


def _detail(pod: PodState) -> str:
    return f" ({pod.message})" if pod.message else ""
