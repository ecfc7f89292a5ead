"""A running try's output read from its worker pod through the Kubernetes API (the ``LiveLog`` of the log read
path, used by the webserver and `tradewind tasks logs` while a try runs on the Kubernetes executor)."""

from __future__ import annotations

from collections.abc import Iterator

from tradewind.config.settings import KubernetesSettings
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.executors.kubernetes.api_client import make_core_api
from tradewind.executors.kubernetes.pod_api import PodApi
from tradewind.executors.kubernetes.pod_logs import find_worker_pod, follow_pod_output, pod_output


class PodLiveLog:
    """The base container's log of the newest pod of a try in ``namespace``."""

    def __init__(self, api: PodApi, namespace: str) -> None:
        self.api = api
        self.namespace = namespace
        self.where = f"the worker pod's output in namespace {namespace} (Kubernetes API)"

    @classmethod
    def from_settings(cls, settings: KubernetesSettings) -> PodLiveLog:
        return cls(PodApi(make_core_api(settings, pool_size=4)), settings.namespace)

    def read(self, key: TaskInstanceKey, try_number: int) -> str | None:
        pod = find_worker_pod(self.api, self.namespace, TaskTryKey(key, try_number))
        if pod is None:
            return None
        # A pod whose container has not started yet has no output so far (not: no worker).
        return pod_output(self.api, self.namespace, pod["metadata"]["name"]) or ""

    def follow(self, key: TaskInstanceKey, try_number: int) -> Iterator[str] | None:
        pod = find_worker_pod(self.api, self.namespace, TaskTryKey(key, try_number))
        if pod is None:
            return None
        return follow_pod_output(self.api, self.namespace, pod["metadata"]["name"])
