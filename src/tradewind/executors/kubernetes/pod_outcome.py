"""Read a worker pod's status: where it is (pending, running, succeeded, failed) and why. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tradewind.executors.kubernetes.pod_template import BASE_CONTAINER

Obj = dict[str, Any]

#: Waiting reasons that will not fix themselves soon: the try is failed at once (and launched again
#: without using a retry, a bounded number of times) instead of waiting for the pending timeout.
FAIL_FAST_WAITING = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)
#: Termination reasons that mean the process never ran.
NEVER_RAN_TERMINATED = frozenset({"StartError", "ContainerCannotRun"})
_EPOCH = "1970-01-01T00:00:00Z"


class PodStage(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PodOutcome:
    stage: PodStage
    #: Why the pod is pending or failed (ImagePullBackOff: ..., OOMKilled (exit code 137), exit code 2 ...).
    reason: str | None = None
    #: The task's container never ran, so the runner never started user code.
    never_started: bool = False
    #: Pending with a reason that will not fix itself: fail the try now.
    fail_fast: bool = False

    @property
    def finished(self) -> bool:
        return self.stage in (PodStage.SUCCEEDED, PodStage.FAILED)


def _main_status(status: Obj) -> Obj:
    statuses = status.get("containerStatuses") or []
    for entry in statuses:
        if entry.get("name") == BASE_CONTAINER:
            return entry
    return statuses[0] if statuses else {}


def _with_message(reason: str, message: str | None) -> str:
    return f"{reason}: {message}" if message else reason


def _container_ran(container: Obj) -> bool:
    state = container.get("state") or {}
    if "running" in state:
        return True
    last = (container.get("lastState") or {}).get("terminated")
    if last:
        return True
    terminated = state.get("terminated")
    if not terminated or terminated.get("reason") in NEVER_RAN_TERMINATED:
        return False
    return bool(terminated.get("startedAt")) and terminated.get("startedAt") != _EPOCH


def _failure_reason(status: Obj, container: Obj) -> str:
    if status.get("reason") == "Evicted":
        return _with_message("Evicted", status.get("message"))
    terminated = (container.get("state") or {}).get("terminated")
    if terminated:
        code, why = terminated.get("exitCode"), terminated.get("reason")
        if why == "OOMKilled":
            return f"OOMKilled (exit code {code})"
        if why in NEVER_RAN_TERMINATED:
            return _with_message(why, terminated.get("message"))
        detail = f" ({why})" if why and why not in ("Error", "Completed") else ""
        return f"exit code {code}{detail}"
    waiting = (container.get("state") or {}).get("waiting")
    if waiting and waiting.get("reason"):
        return _with_message(waiting["reason"], waiting.get("message"))
    if status.get("reason"):
        return _with_message(status["reason"], status.get("message"))
    return "the pod failed without a reason"


def _pending_reason(status: Obj, container: Obj) -> tuple[str, bool]:
    waiting = (container.get("state") or {}).get("waiting") or {}
    reason = waiting.get("reason")
    if reason in FAIL_FAST_WAITING:
        return _with_message(reason, waiting.get("message")), True
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return _with_message(condition.get("reason") or "Unschedulable", condition.get("message")), False
    if reason:
        return _with_message(reason, waiting.get("message")), False
    return "waiting for a node", False


def read_pod(pod: Obj) -> PodOutcome:
    status = pod.get("status") or {}
    container = _main_status(status)
    phase = status.get("phase") or "Pending"
    ran = _container_ran(container)
    if phase == "Succeeded":
        return PodOutcome(PodStage.SUCCEEDED, None, never_started=not ran)
    if phase == "Failed":
        return PodOutcome(PodStage.FAILED, _failure_reason(status, container), never_started=not ran)
    if phase == "Running":
        return PodOutcome(PodStage.RUNNING)
    reason, fail_fast = _pending_reason(status, container)
    return PodOutcome(PodStage.PENDING, reason, never_started=True, fail_fast=fail_fast)
