"""Reading pods and workloads from Kubernetes JSON, and waiting for a rollout with a deadline."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.deploy.rollout import RolloutSnapshot, RolloutWatch, pod_state, snapshot, workload_state
from tradewind.sdk.errors import TradewindError


def pod(
    name: str, component: str = "webserver", *, ready: bool = False, phase: str = "Pending", **status: Any
) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}, *status.pop("conditions", [])]
    return {
        "metadata": {"name": name, "labels": {"app.kubernetes.io/component": component}},
        "status": {"phase": phase, "conditions": conditions, **status},
    }


def waiting(name: str, reason: str, message: str = "", restarts: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": message}},
    }


def deployment(
    name: str, *, desired: int = 1, ready: int = 0, updated: int | None = None, generation: int = 1
) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "generation": generation},
        "spec": {"replicas": desired},
        "status": {
            "readyReplicas": ready,
            "updatedReplicas": desired if updated is None else updated,
            "observedGeneration": 1,
        },
    }


def test_pod_state_names_the_reason_a_pod_is_not_ready() -> None:
    state = pod_state(
        pod(
            "web-1",
            phase="Pending",
            containerStatuses=[waiting("webserver", "ImagePullBackOff", "Back-off pulling image", 0)],
        )
    )
    assert (state.ready, state.reason, state.container, state.status) == (
        False,
        "ImagePullBackOff",
        "webserver",
        "ImagePullBackOff",
    )
    unscheduled = pod_state(
        pod(
            "web-2",
            conditions=[
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes: unbound PVC",
                }
            ],
        )
    )
    assert (unscheduled.reason, unscheduled.message) == ("Unschedulable", "0/1 nodes: unbound PVC")
    init = pod_state(
        pod(
            "sched-1",
            "scheduler",
            initContainerStatuses=[waiting("wait-for-migrations", "PodInitializing")],
            containerStatuses=[waiting("scheduler", "CrashLoopBackOff", restarts=4)],
        )
    )
    assert (init.reason, init.restarts, init.container) == ("CrashLoopBackOff", 4, "scheduler")
    assert pod_state(pod("ok", ready=True, phase="Running")).status == "Ready"
    assert pod_state(pod("job", "migrate", phase="Succeeded")).status == "Completed"


def test_workload_is_done_when_its_current_generation_is_ready() -> None:
    assert workload_state(deployment("w", desired=2, ready=2)).done
    assert not workload_state(deployment("w", desired=2, ready=1)).done
    assert not workload_state(deployment("w", desired=1, ready=1, updated=0)).done
    assert not workload_state(deployment("w", ready=1, generation=2)).done


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def watch(
    snapshots: list[RolloutSnapshot], *, timeout: float = 600
) -> tuple[RolloutWatch, list[RolloutSnapshot]]:
    clock, seen = FakeClock(), []
    queue = iter(snapshots)
    last: list[RolloutSnapshot] = []

    def fetch() -> RolloutSnapshot:
        last[:] = [next(queue, last[0] if last else snapshots[-1])]
        return last[0]

    return RolloutWatch(
        fetch=fetch, timeout=timeout, namespace="data", on_update=seen.append, clock=clock, sleep=clock.sleep
    ), seen


def test_waits_until_every_workload_is_ready() -> None:
    starting = snapshot([deployment("web"), deployment("sched")], [pod("web-1"), pod("sched-1", "scheduler")])
    half = snapshot(
        [deployment("web", ready=1), deployment("sched")],
        [pod("web-1", ready=True, phase="Running"), pod("sched-1", "scheduler")],
    )
    up = snapshot(
        [deployment("web", ready=1), deployment("sched", ready=1)],
        [pod("web-1", ready=True, phase="Running")],
    )
    runner, seen = watch([starting, half, up])
    assert runner.run() == up
    assert seen == [starting, half, up]


def test_helm_still_running_keeps_the_rollout_open() -> None:
    up = snapshot([deployment("web", ready=1)], [])
    assert not RolloutSnapshot(up.workloads, up.pods, waiting_for=("helm",)).done
    assert not snapshot([], []).done, "no workloads yet is not done"


def test_a_permanent_problem_fails_at_once_with_the_reason() -> None:
    stuck = snapshot(
        [deployment("web")],
        [
            pod(
                "web-1",
                containerStatuses=[
                    waiting("webserver", "CreateContainerConfigError", 'secret "db" not found')
                ],
            )
        ],
    )
    runner, seen = watch([stuck])
    with pytest.raises(
        TradewindError, match=r'pod web-1 is stuck: CreateContainerConfigError \(secret "db" not found\)'
    ):
        runner.run()
    assert len(seen) == 1


def test_an_image_pull_failure_is_reported_once_it_persists() -> None:
    stuck = snapshot(
        [deployment("web")],
        [pod("web-1", containerStatuses=[waiting("webserver", "ImagePullBackOff", "pull access denied")])],
    )
    runner, seen = watch([stuck])
    with pytest.raises(TradewindError, match=r"ImagePullBackOff.*check --image and --tag"):
        runner.run()
    assert 40 <= len(seen) <= 50, "reported after about 90 s of 2 s polls, not at the first sight"


def test_timeout_lists_what_is_not_ready() -> None:
    pending = snapshot(
        [deployment("tw-scheduler", desired=2, ready=1)],
        [pod("tw-scheduler-b", "scheduler", phase="Running")],
    )
    runner, _ = watch([pending], timeout=30)
    with pytest.raises(TradewindError) as caught:
        runner.run()
    message = str(caught.value)
    assert "not ready after 30s" in message and "Deployment tw-scheduler 1/2 ready" in message
    assert "tw-scheduler-b: Running" in message and "kubectl --namespace data describe pods" in message


def test_a_job_out_of_retries_fails_the_rollout_with_where_to_look() -> None:
    job = {
        "metadata": {"name": "tw-tradewind-migrate-1"},
        "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                   "message": "Job has reached the specified backoff limit"}]},
    }  # fmt: skip
    running = {"metadata": {"name": "tw-tradewind-migrate-2"}, "status": {"active": 1}}
    assert snapshot([], [], [running]).failed_jobs == ()
    runner, _ = watch([snapshot([deployment("web")], [], [job])])
    with pytest.raises(
        TradewindError, match=r"backoff limit; see `kubectl --namespace data logs job/tw-tradewind-migrate-1`"
    ):
        runner.run()
