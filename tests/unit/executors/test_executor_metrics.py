"""What executors record that only they see: Celery queue depth, and Kubernetes pod failures by reason."""

from __future__ import annotations

from pydantic import SecretStr

from tradewind.config.settings import CelerySettings
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.celery.executor import CeleryExecutor
from tradewind.executors.kubernetes.pod_metrics import failure_label, record_event
from tradewind.observability.metrics import Metrics
from tradewind.observability.metrics_prometheus import PrometheusExporter


def _workload(task_id: str, queue: str) -> ExecuteTask:
    return ExecuteTask(
        dag_id="d", task_id=task_id, run_id="r", map_index=-1, try_number=1, queue=queue, pool="default_pool",
        priority_weight=1, dag_rel_path="d.py", executor_config={},
    )


def test_celery_queue_depth_counts_sent_tries_no_worker_started() -> None:
    exporter = PrometheusExporter()
    executor = CeleryExecutor(
        CelerySettings(broker_url=SecretStr("redis://127.0.0.1:1/0")), parallelism=4, poll_interval=0.1
    )
    executor.metrics = Metrics([exporter])
    for task_id, queue in (("a", "default"), ("b", "default"), ("c", "gpu")):
        executor.queue_workload(_workload(task_id, queue))
    executor.sync()  # never started: the sends wait in the client's queue, as tries wait in the broker's
    default_queue = executor.celery_settings.default_queue
    assert exporter.registry.get_sample_value("tradewind_celery_queued_tasks", {"queue": default_queue}) == 2
    assert exporter.registry.get_sample_value("tradewind_celery_queued_tasks", {"queue": "gpu"}) == 1


def test_pod_failure_reasons_become_bounded_labels() -> None:
    assert failure_label("OOMKilled (exit code 137)") == "OOMKilled"
    assert failure_label("exit code 1") == "Error"
    assert failure_label("ImagePullBackOff: Back-off pulling image") == "ImagePullBackOff"
    assert failure_label("Evicted: The node was low on resource") == "Evicted"
    assert failure_label(None) == "Unknown"
    exporter = PrometheusExporter()
    metrics = Metrics([exporter])
    key = TaskTryKey(TaskInstanceKey("d", "r", "t", -1), 1)
    record_event(metrics, TaskEvent(key, TryProcessEvent.FAILED, reason="exit code 2"))
    record_event(metrics, TaskEvent(key, TryProcessEvent.EXITED_CLEANLY))
    assert exporter.registry.get_sample_value(
        "tradewind_kubernetes_executor_pods_failed_total", {"reason": "Error"}
    ) == 1
