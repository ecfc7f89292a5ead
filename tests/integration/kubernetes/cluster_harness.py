"""Helpers for tests against the fake cluster: polling with a deadline, and small pod manifests."""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from kubernetes.client import CoreV1Api
from tests.waiting import wait_for

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.base import Executor
from tradewind.executors.kubernetes.pod_spec import merge

T = TypeVar("T")
PYTHON = sys.executable


def python_pod(name: str, code: str, **extra: Any) -> dict[str, Any]:
    """A pod whose `base` container runs ``python -u -c code``."""
    container = {"name": "base", "image": "python:3.11", "command": [PYTHON, "-u", "-c", code]}
    container.update(extra.pop("container", {}))
    metadata = {"name": name, **extra.pop("metadata", {})}
    return {"metadata": metadata, "spec": {"restartPolicy": "Never", "containers": [container], **extra}}


def pod_phase(api: CoreV1Api, name: str, namespace: str = "default") -> str | None:
    pods = api.list_namespaced_pod(namespace, field_selector=f"metadata.name={name}").items
    return pods[0].status.phase if pods else None


def container_state(api: CoreV1Api, name: str, namespace: str = "default") -> Any:
    pod = api.read_namespaced_pod(name, namespace)
    statuses = pod.status.container_statuses or []
    return statuses[0].state if statuses else None


class EventLog:
    """Drains an executor's events and waits, with a deadline, for the ones a test expects."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.events: list[TaskEvent] = []

    def drain(self) -> list[TaskEvent]:
        self.events += self.executor.get_events()
        return self.events

    def wait(self, key: TaskTryKey, kind: TryProcessEvent, *, timeout: float = 20.0) -> TaskEvent:
        def found() -> TaskEvent | None:
            return next((e for e in self.drain() if e.key == key and e.kind == kind), None)

        return wait_for(found, timeout=timeout, what=f"{kind} for {key}")

    def final(self, key: TaskTryKey, *, timeout: float = 20.0) -> TaskEvent:
        def found() -> TaskEvent | None:
            return next((e for e in self.drain() if e.key == key and e.ended), None)

        return wait_for(found, timeout=timeout, what=f"a final event for {key}")

    def of(self, key: TaskTryKey) -> list[TaskEvent]:
        return [e for e in self.drain() if e.key == key]


def python_workload(task_id: str, code: str, *, dag_id: str = "k8s_dag", run_id: str = "manual__2024-01-01T00:00:00+00:00",
                    try_number: int = 1, map_index: int = -1, pod_override: dict[str, Any] | None = None) -> ExecuteTask:
    """A workload whose pod runs ``python -u -c code`` instead of the runner (through pod_override)."""
    override: dict[str, Any] = {"spec": {"containers": [{"name": "base", "command": [PYTHON, "-u", "-c", code]}]}}
    if pod_override:
        override = merge(override, pod_override)
    return ExecuteTask(dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=try_number, map_index=map_index,
                       executor_config={"pod_override": override})


def worker_pods(api: CoreV1Api, namespace: str = "default", selector: str = "tradewind-worker=true") -> list[Any]:
    return list(api.list_namespaced_pod(namespace, label_selector=selector).items)
