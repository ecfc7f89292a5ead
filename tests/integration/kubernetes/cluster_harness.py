"""Helpers for tests against the fake cluster: polling with a deadline, and small pod manifests."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes.client import CoreV1Api

T = TypeVar("T")
PYTHON = sys.executable


def wait_for(check: Callable[[], T | None], *, timeout: float = 15.0, interval: float = 0.05, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what or check}")
        time.sleep(interval)


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
