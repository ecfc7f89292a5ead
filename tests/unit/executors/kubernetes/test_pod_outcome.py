"""Reading pod statuses: stages, failure reasons and whether the container ever ran."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.executors.kubernetes.pod_outcome import PodStage, read_pod


def pod(phase: str, state: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    statuses = [{"name": "base", "state": state}] if state is not None else []
    return {"status": {"phase": phase, "containerStatuses": statuses, **status}}


RAN = "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("document", "stage", "reason", "never_started", "fail_fast"),
    [
        (pod("Pending"), PodStage.PENDING, "waiting for a node", True, False),
        (pod("Pending", {"waiting": {"reason": "ContainerCreating"}}), PodStage.PENDING, "ContainerCreating", True,
         False),
        (pod("Pending", {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}),
         PodStage.PENDING, "ImagePullBackOff: Back-off pulling image", True, True),
        (pod("Pending", {"waiting": {"reason": "ErrImagePull"}}), PodStage.PENDING, "ErrImagePull", True, True),
        (pod("Pending", {"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "s" not found'}}),
         PodStage.PENDING, 'CreateContainerConfigError: secret "s" not found', True, True),
        (pod("Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                     "message": "0/3 nodes are available"}]),
         PodStage.PENDING, "Unschedulable: 0/3 nodes are available", True, False),
        (pod("Running", {"running": {"startedAt": RAN}}), PodStage.RUNNING, None, False, False),
        (pod("Succeeded", {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": RAN}}),
         PodStage.SUCCEEDED, None, False, False),
        (pod("Failed", {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": RAN}}),
         PodStage.FAILED, "exit code 2", False, False),
        (pod("Failed", {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": RAN}}),
         PodStage.FAILED, "OOMKilled (exit code 137)", False, False),
        (pod("Failed", {"terminated": {"exitCode": 137, "reason": "Error", "startedAt": RAN}}, reason="Evicted",
             message="The node was low on resource: memory."),
         PodStage.FAILED, "Evicted: The node was low on resource: memory.", False, False),
        (pod("Failed", {"waiting": {"reason": "ContainerCreating"}}, reason="Evicted", message="low disk"),
         PodStage.FAILED, "Evicted: low disk", True, False),
        (pod("Failed", {"terminated": {"exitCode": 128, "reason": "StartError", "message": "exec: not found",
                                       "startedAt": "1970-01-01T00:00:00Z"}}),
         PodStage.FAILED, "StartError: exec: not found", True, False),
        (pod("Failed", reason="DeadlineExceeded", message="too long"), PodStage.FAILED, "DeadlineExceeded: too long",
         True, False),
    ],
)
def test_read_pod(document: dict[str, Any], stage: PodStage, reason: str | None, never_started: bool,
                  fail_fast: bool) -> None:
    outcome = read_pod(document)
    assert (outcome.stage, outcome.reason, outcome.never_started, outcome.fail_fast) == \
        (stage, reason, never_started, fail_fast)
