"""The Kubernetes executor against the fake cluster, through the official client: pods, states, reasons."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes.client import CoreV1Api
from tests.integration.kubernetes.cluster_harness import EventLog, python_workload, worker_pods
from tests.waiting import wait_for

from tradewind.config.settings import KubernetesSettings
from tradewind.core.events import TryProcessEvent
from tradewind.core.log_paths import log_relative_path
from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.executor import KubernetesExecutor
from tradewind.testing.fake_cluster import FakeCluster
from tradewind.testing.fake_kubernetes import PodFault

MakeExecutor = Callable[..., KubernetesExecutor]
HOLD = {"metadata": {"annotations": {"fake.tradewind.io/fault": "unschedulable"}}}


def test_pod_spec_as_created(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    settings = k8s_settings.model_copy(update={"env_from_secret": "tradewind-db", "env_from_configmap": "tw-cfg"})
    executor = make_executor(settings, job_id=42)
    workload = ExecuteTask(dag_id="Sales.Report", task_id="load_all", run_id="scheduled__2024-05-01T00:00:00+00:00",
                           map_index=3, try_number=2, dag_rel_path="sales/report.py",
                           executor_config={"pod_override": HOLD})
    external_id = executor.queue_workload(workload)
    assert external_id is not None and external_id.startswith("default/sales-report-load-all-")
    pod = wait_for(lambda: worker_pods(core_api), what="the pod")[0]
    assert pod.metadata.name == external_id.split("/")[1] and len(pod.metadata.name) <= 63
    labels = pod.metadata.labels
    assert labels["tradewind-worker"] == "true" and labels["scheduler_job_id"] == "42"
    assert (labels["dag_id"], labels["task_id"], labels["try_number"], labels["map_index"]) == \
        ("Sales.Report", "load_all", "2", "3")
    assert labels["run_id"].startswith("scheduled__2024-05-01T00_00_00_00_00-")
    assert pod.metadata.annotations["tradewind.io/run-id"] == "scheduled__2024-05-01T00:00:00+00:00"
    base = pod.spec.containers[0]
    assert base.command == workload.command() and base.image == "python:3.11"
    assert [(e.secret_ref and e.secret_ref.name, e.config_map_ref and e.config_map_ref.name) for e in base.env_from] \
        == [("tradewind-db", None), (None, "tw-cfg")]
    assert not any(e.name == "TRADEWIND__DATABASE__URL" for e in base.env)  # secrets only by reference
    assert pod.spec.restart_policy == "Never"
    assert executor.queue_workload(workload) == external_id  # the same try twice: still one pod
    assert len(worker_pods(core_api)) == 1


def test_running_then_success_and_exit_code_failure(
    core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    executor = make_executor(k8s_settings)
    events = EventLog(executor)
    ok = python_workload("ok", "import time; time.sleep(0.3); print('fine')")
    bad = python_workload("bad", "import sys; print('oops'); sys.exit(3)")
    executor.queue_workload(ok)
    executor.queue_workload(bad)
    running = events.wait(ok.try_key, TryProcessEvent.STARTED)
    assert running.external_id is not None and running.external_id.startswith("default/k8s-dag-ok-")
    assert events.final(ok.try_key).kind == TryProcessEvent.EXITED_CLEANLY
    failed = events.final(bad.try_key)
    assert failed.kind == TryProcessEvent.FAILED
    assert (failed.reason, failed.never_started) == ("exit code 3", False)
    wait_for(lambda: not executor.running_keys(), what="the executor to carry nothing")


def test_each_failure_reason_reaches_the_task_event(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    settings = k8s_settings.model_copy(update={"worker_pods_pending_timeout": 2.0})
    executor = make_executor(settings)
    events = EventLog(executor)
    fake_cluster.faults.fault_next_pods(PodFault.IMAGE_PULL, label_selector="task_id=pull")
    sleepy = "import time; time.sleep(30)"
    pull = python_workload("pull", sleepy)
    config = python_workload("config", sleepy, pod_override={"spec": {"containers": [
        {"name": "base", "envFrom": [{"secretRef": {"name": "no-such-secret"}}]}]}})
    unschedulable = python_workload("unsched", sleepy, pod_override=HOLD)
    oom = python_workload("oom", sleepy, pod_override={"metadata": {"annotations": {
        "fake.tradewind.io/fault": "oom-killed"}}})
    evicted = python_workload("evict", sleepy)
    for workload in (pull, config, unschedulable, oom, evicted):
        executor.queue_workload(workload)
    events.wait(evicted.try_key, TryProcessEvent.STARTED)
    fake_cluster.server.fault_pod("default", _pod_name(core_api, "evict"), PodFault.EVICTED)

    pulled = events.final(pull.try_key)
    assert pulled.reason is not None and pulled.reason.startswith(("ErrImagePull", "ImagePullBackOff"))
    assert pulled.never_started
    configured = events.final(config.try_key)
    assert configured.reason == 'CreateContainerConfigError: secret "no-such-secret" not found'
    assert configured.never_started
    pending = events.final(unschedulable.try_key)
    assert pending.reason is not None and pending.reason.startswith("pending for more than 2s: Unschedulable: 0/1")
    assert pending.never_started
    killed = events.final(oom.try_key)
    assert (killed.reason, killed.never_started) == ("OOMKilled (exit code 137)", False)
    gone = events.final(evicted.try_key)
    assert gone.reason is not None and gone.reason.startswith("Evicted: The node was low on resource")
    assert all(e.kind == TryProcessEvent.FAILED for e in events.drain() if e.kind != TryProcessEvent.STARTED)
    # Pods that never started are deleted so they cannot start later and run the task a second time.
    for task in ("pull", "config", "unsched"):
        wait_for(lambda task=task: not worker_pods(core_api, selector=f"task_id={task}"), what=f"{task} deleted")


def _pod_name(api: CoreV1Api, task_id: str) -> str:
    return str(wait_for(lambda: worker_pods(api, selector=f"task_id={task_id}"), what=task_id)[0].metadata.name)


def test_a_pod_that_never_starts_is_given_back_a_bounded_number_of_times(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    executor = make_executor(k8s_settings.model_copy(update={"pod_launch_retries": 1}))
    events = EventLog(executor)
    fake_cluster.faults.fault_next_pods(PodFault.IMAGE_PULL, label_selector="task_id=flaky", count=2)
    workload = python_workload("flaky", "print(1)")
    executor.queue_workload(workload)
    assert events.final(workload.try_key).never_started  # the scheduler re-queues it without a retry
    events.events.clear()
    executor.queue_workload(workload)  # the same try, launched again
    second = events.final(workload.try_key)
    assert not second.never_started and second.reason is not None and "failed to start 2 times" in second.reason


def test_create_is_retried_through_throttling_quota_conflicts_and_server_errors(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    fake_cluster.faults.fail_next_creates(2, 429, retry_after=1)
    fake_cluster.faults.fail_next_creates(2, 403)
    fake_cluster.faults.fail_next_creates(1, 409)
    fake_cluster.faults.fail_next_creates(2, 500)
    executor = make_executor(k8s_settings)
    events = EventLog(executor)
    workloads = [python_workload(f"t{i}", "print('ok')") for i in range(4)]
    for workload in workloads:
        executor.queue_workload(workload)
    for workload in workloads:
        assert events.final(workload.try_key, timeout=30).kind == TryProcessEvent.EXITED_CLEANLY


def test_watch_faults_are_survived(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    executor = make_executor(k8s_settings)
    events = EventLog(executor)
    first = python_workload("first", "import time; time.sleep(1)")
    executor.queue_workload(first)
    events.wait(first.try_key, TryProcessEvent.STARTED)
    watcher = executor._watchers["default"]  # its counters show the faults were hit
    fake_cluster.faults.fail_next_watches(2, 500)
    wait_for(lambda: fake_cluster.server.drop_watches() > 0, what="a watch to drop")
    assert events.final(first.try_key, timeout=30).kind == TryProcessEvent.EXITED_CLEANLY
    assert watcher.reconnects >= 1

    second = python_workload("second", "import time; time.sleep(1)")
    # The first pod's deletion is the watch's last event; were it to come after the noise below, the watcher
    # would resume from past the compaction point and never see a 410.
    wait_for(lambda: not worker_pods(core_api, selector="task_id=first"), what="the first pod to be deleted")
    for i in range(3):  # writes the pod watch does not see move the cluster's resourceVersion on
        core_api.create_namespaced_config_map("default", {"metadata": {"name": f"noise-{i}"}})
    fake_cluster.server.compact()  # what the watcher would resume from is gone: 410, then a re-list
    wait_for(lambda: fake_cluster.server.drop_watches() > 0, what="a watch to drop")
    executor.queue_workload(second)
    assert events.final(second.try_key, timeout=30).kind == TryProcessEvent.EXITED_CLEANLY
    wait_for(lambda: watcher.relists >= 1, what="a re-list after 410")

    third = python_workload("third", "print('3')")
    fake_cluster.faults.expire_next_watches(1)
    wait_for(lambda: fake_cluster.server.drop_watches(abrupt=False) > 0, what="a watch to end")
    executor.queue_workload(third)
    assert events.final(third.try_key, timeout=30).kind == TryProcessEvent.EXITED_CLEANLY


def test_output_is_saved_into_the_try_log_before_the_pod_goes(
    tmp_path: Path, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    executor = make_executor(k8s_settings)
    events = EventLog(executor)
    ok = python_workload("chatty", "print('first line'); print('second line')", map_index=2)
    bad = python_workload("sad", "import sys; print('about to fail'); sys.exit(4)")
    executor.queue_workload(ok)
    executor.queue_workload(bad)
    events.final(ok.try_key)
    events.final(bad.try_key)
    wait_for(lambda: not worker_pods(core_api, selector="task_id=chatty"), what="the successful pod to be deleted")
    log = (tmp_path / "logs" / log_relative_path(ok.ti_key, 1)).read_text()
    lines = log.splitlines()
    assert any(line.endswith(" first line") for line in lines) and any(line.endswith(" second line") for line in lines)
    assert all(line[:4].isdigit() and "T" in line.split(" ")[0] for line in lines)  # each line stamped
    assert "map_index=2" in str(log_relative_path(ok.ti_key, 1))
    # Failed pods are kept for debugging (the default), labelled so nobody adopts them again.
    kept = wait_for(lambda: worker_pods(core_api, selector="task_id=sad,tradewind-kept=true"), what="kept pod")
    assert kept[0].status.phase == "Failed"
    bad_log = (tmp_path / "logs" / log_relative_path(bad.ti_key, 1)).read_text()
    assert "about to fail" in bad_log and "exit code 4" in bad_log and "event Normal Started" in bad_log


def test_terminate_stops_the_pod(core_api: CoreV1Api, k8s_settings: KubernetesSettings,
                                 make_executor: MakeExecutor) -> None:
    executor = make_executor(k8s_settings)
    events = EventLog(executor)
    workload = python_workload("long", "import time; time.sleep(60)")
    executor.queue_workload(workload)
    events.wait(workload.try_key, TryProcessEvent.STARTED)
    executor.terminate(workload.try_key)
    final = events.final(workload.try_key)
    assert final.kind == TryProcessEvent.FAILED
    assert final.reason is not None and "terminated by the scheduler" in final.reason
    wait_for(lambda: not worker_pods(core_api, selector="task_id=long"), what="the pod to go")


def test_pod_override_namespace_and_per_namespace_limit(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    fake_cluster.server.create_namespace("batch")
    executor = make_executor(k8s_settings.model_copy(update={"max_pods_per_namespace": 1}))
    events = EventLog(executor)
    override = {"metadata": {"namespace": "batch"}}
    workloads = [python_workload(f"b{i}", "import time; time.sleep(0.5)", pod_override=override) for i in range(3)]
    for workload in workloads:
        executor.queue_workload(workload)
    live_counts: list[int] = []

    def all_done() -> bool:
        live_counts.append(sum(1 for p in worker_pods(core_api, "batch") if p.status.phase in ("Pending", "Running")))
        finished = {e.key for e in events.drain() if e.kind == TryProcessEvent.EXITED_CLEANLY}
        return all(w.try_key in finished for w in workloads)

    wait_for(all_done, timeout=30, what="three pods, one at a time")
    assert max(live_counts) == 1


def test_token_secret_goes_with_a_pod_deleted_by_someone_else(
    core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    """A try's token Secret never outlives the try, also when its pod is deleted behind the executor's back."""
    from kubernetes.client import ApiException

    from tradewind.executors.kubernetes.pod_identity import token_secret_name

    executor = make_executor(k8s_settings)
    events = EventLog(executor)
    workload = python_workload("deleted", "import time; time.sleep(60)").model_copy(update={"token": "try-token"})
    executor.queue_workload(workload)
    running = events.wait(workload.try_key, TryProcessEvent.STARTED)
    secret = token_secret_name(workload.try_key)
    assert core_api.read_namespaced_secret(secret, "default").metadata.name == secret

    assert running.external_id is not None
    namespace, name = running.external_id.split("/")
    core_api.delete_namespaced_pod(name, namespace, grace_period_seconds=0)

    final = events.final(workload.try_key)
    assert final.kind == TryProcessEvent.FAILED and final.reason is not None and "deleted" in final.reason

    def secret_gone() -> bool:
        try:
            core_api.read_namespaced_secret(secret, "default")
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for(secret_gone, what="the try's token Secret to be deleted")


def test_pod_metrics_count_created_pending_and_failed_by_reason(
    core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor
) -> None:
    """What a dashboard shows of worker pods: created, pending now, failed by Kubernetes' reason."""
    from tradewind.observability.metrics import Metrics
    from tradewind.observability.metrics_prometheus import PrometheusExporter

    exporter = PrometheusExporter()
    executor = make_executor(k8s_settings)
    executor.metrics = Metrics([exporter])
    events = EventLog(executor)
    ok = python_workload("m_ok", "print('fine')")
    bad = python_workload("m_bad", "import sys; sys.exit(3)")
    held = python_workload("m_held", "print('never')", pod_override=HOLD)
    for workload in (ok, bad, held):
        executor.queue_workload(workload)
    assert events.final(ok.try_key).kind == TryProcessEvent.EXITED_CLEANLY
    assert events.final(bad.try_key).kind == TryProcessEvent.FAILED

    def sample(name: str, labels: dict[str, str] | None = None) -> float | None:
        return exporter.registry.get_sample_value(name, labels or {})

    def held_pending() -> bool:
        executor.sync()
        return sample("tradewind_kubernetes_executor_pods_pending") == 1

    wait_for(held_pending, what="the unschedulable pod counted as pending")
    assert sample("tradewind_kubernetes_executor_pods_created_total") == 3
    assert sample("tradewind_kubernetes_executor_pods_failed_total", {"reason": "Error"}) == 1
    executor.terminate(held.try_key)
    assert events.final(held.try_key).kind == TryProcessEvent.FAILED

    def nothing_pending() -> bool:
        executor.sync()
        return sample("tradewind_kubernetes_executor_pods_pending") == 0

    wait_for(nothing_pending, what="no pod pending once the held one is gone")
