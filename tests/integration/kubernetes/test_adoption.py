"""A new executor takes over the pods of one that stopped: no pod orphaned, no try run twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes.client import CoreV1Api
from tests.integration.kubernetes.cluster_harness import (
    EventLog,
    pod_phase,
    python_workload,
    worker_pods,
)
from tests.waiting import wait_for

from tradewind.config.settings import KubernetesSettings
from tradewind.core.events import TryProcessEvent
from tradewind.core.log_paths import log_relative_path
from tradewind.executors.base import AdoptionCandidate
from tradewind.executors.kubernetes.executor import KubernetesExecutor

MakeExecutor = Callable[..., KubernetesExecutor]


def test_adoption_after_a_stop_without_waiting(
    tmp_path: Path, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    settings = k8s_settings.model_copy(update={"delete_worker_pods": False})  # keep pods, to count them
    first = make_executor(settings, job_id=1)
    events = EventLog(first)
    running = [python_workload(f"long{i}", "import time; time.sleep(2); print('long done')") for i in range(2)]
    quick = python_workload("quick", "import time; time.sleep(0.5); print('quick done')")
    for workload in [*running, quick]:
        first.queue_workload(workload)
    for workload in [*running, quick]:
        events.wait(workload.try_key, TryProcessEvent.STARTED)
    first.stop(wait=False)
    quick_pod = worker_pods(core_api, selector="task_id=quick")[0].metadata.name
    wait_for(lambda: pod_phase(core_api, quick_pod) == "Succeeded", what="quick to finish while nobody watches")

    second = make_executor(settings, job_id=2)
    events2 = EventLog(second)
    never = python_workload("never", "print('never')")  # queued, but the first executor never made its pod
    candidates = [AdoptionCandidate(w, None) for w in [*running, quick, never]]
    assert [w.try_key for w in second.adopt(candidates)] == [never.try_key]
    for workload in [*running, quick]:
        assert events2.final(workload.try_key).kind == TryProcessEvent.EXITED_CLEANLY
    for workload in [*running, quick]:
        pods = worker_pods(core_api, selector=f"task_id={workload.task_id}")
        assert len(pods) == 1, f"{workload.task_id} has {len(pods)} pods"
        assert pods[0].metadata.labels["scheduler_job_id"] == "2"
    log = (tmp_path / "logs" / log_relative_path(quick.ti_key, 1)).read_text()
    assert log.count("quick done") == 1


def test_requeued_try_finds_its_existing_pod_instead_of_making_another(
    core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    first = make_executor(k8s_settings, job_id=1)
    workload = python_workload("once", "import time; time.sleep(1.5)")
    first.queue_workload(workload)
    EventLog(first).wait(workload.try_key, TryProcessEvent.STARTED)
    first.stop(wait=False)
    second = make_executor(k8s_settings, job_id=2)
    events = EventLog(second)
    second.queue_workload(workload)  # create -> 409 AlreadyExists -> it is this try's live pod: carry it
    assert events.final(workload.try_key).kind == TryProcessEvent.EXITED_CLEANLY
    assert len([e for e in events.events if e.kind == TryProcessEvent.EXITED_CLEANLY]) == 1


def test_finished_orphans_of_a_dead_scheduler_are_archived_and_deleted(
    tmp_path: Path, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    first = make_executor(k8s_settings, job_id=1)
    workload = python_workload("orphan", "import time; time.sleep(0.5); print('orphan output')")
    first.queue_workload(workload)
    EventLog(first).wait(workload.try_key, TryProcessEvent.STARTED)
    first.stop(wait=False)
    name = worker_pods(core_api, selector="task_id=orphan")[0].metadata.name
    wait_for(lambda: pod_phase(core_api, name) == "Succeeded", what="the orphan to finish")
    second = make_executor(k8s_settings, job_id=2, orphan_grace=0.0)
    assert second.adopt([]) == []  # the database no longer has the try queued or running
    wait_for(lambda: pod_phase(core_api, name) is None, what="the orphan to be deleted")
    assert "orphan output" in (tmp_path / "logs" / log_relative_path(workload.ti_key, 1)).read_text()


def test_a_dead_schedulers_pod_that_finishes_after_adoption_is_settled_at_once(
    tmp_path: Path, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    """A try whose task already reported its outcome is no adoption candidate, but its pod may still be
    stopping when the new scheduler takes over: once it finishes, its output is archived and the pod settled
    at once, not after the orphan grace (minutes) or the next re-list."""
    settings = k8s_settings.model_copy(update={"delete_worker_pods": False})  # kept pods get a label
    first = make_executor(settings, job_id=1)
    events = EventLog(first)
    adopted = python_workload("adopted", "import time; time.sleep(1); print('adopted done')")
    late = python_workload("late", "import time; time.sleep(3); print('late done')")
    for workload in (adopted, late):
        first.queue_workload(workload)
    for workload in (adopted, late):
        events.wait(workload.try_key, TryProcessEvent.STARTED)
    first.stop(wait=False)

    second = make_executor(settings, job_id=2, resync_interval=3600.0, orphan_grace=3600.0)
    assert second.adopt([AdoptionCandidate(adopted, None)]) == []
    late_pod = worker_pods(core_api, selector="task_id=late")[0].metadata.name
    assert pod_phase(core_api, late_pod) in ("Pending", "Running"), "the late pod finished before the takeover"

    def late_settled() -> bool:
        pods = worker_pods(core_api, selector="task_id=late")
        return bool(pods) and pods[0].metadata.labels.get("tradewind-kept") == "true"

    wait_for(late_settled, timeout=30, what="the late pod archived and labelled kept")
    assert "late done" in (tmp_path / "logs" / log_relative_path(late.ti_key, 1)).read_text()
