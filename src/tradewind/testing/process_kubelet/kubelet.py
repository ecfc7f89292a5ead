"""ProcessKubelet: watches pods over the API, schedules them onto its one node, runs them as processes."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import httpx

from tradewind.testing.fake_kubernetes.faults import POD_FAULT_ANNOTATION, PodFault
from tradewind.testing.process_kubelet.api import ApiStatusError, KubeletApi
from tradewind.testing.process_kubelet.config import KubeletConfig
from tradewind.testing.process_kubelet.pod_status import unschedulable_status
from tradewind.testing.process_kubelet.pod_worker import PodWorker

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class ProcessKubelet:
    """Plays both the scheduler (binds pods to its node, or marks them Unschedulable) and the kubelet.

    Everything goes through the HTTP API, so it works against any API server that speaks Kubernetes.
    Containers run in the host filesystem; only a pod's ``base`` container (or its only one) runs, once
    (restartPolicy Never semantics).
    """

    def __init__(self, config: KubeletConfig) -> None:
        self.config = config
        self._workers: dict[str, PodWorker] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._api: KubeletApi | None = None

    def start(self) -> ProcessKubelet:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self._api = KubeletApi(self.config.api_url, self.config.node_name)
        self._register_node(self._api)
        self._thread = threading.Thread(target=self._loop, name="process-kubelet", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop taking pods and kill the running ones. The watch thread ends when its stream does."""
        self._stopping.set()
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.thread.join(timeout=5)

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the watch thread to end; whether it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=self.config.watch_timeout_seconds + 1)
        if self._api is not None:
            self._api.close()

    def __enter__(self) -> ProcessKubelet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def running_pods(self) -> list[str]:
        with self._lock:
            return sorted(f"{w.namespace}/{w.name}" for w in self._workers.values())

    # -- watch --------------------------------------------------------------------------------------
    def _register_node(self, api: KubeletApi) -> None:
        node = {
            "metadata": {"name": self.config.node_name, "labels": self.config.labels()},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "capacity": {"cpu": "2", "memory": "4Gi", "pods": "1000"},
                "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "1000"},
            },
        }
        try:
            api.create("nodes", None, node)
        except ApiStatusError as exc:
            if exc.code != 409:  # 409: registered by an earlier run
                raise

    def _loop(self) -> None:
        assert self._api is not None
        api = self._api
        rv: str | None = None
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                if rv is None:
                    pods, rv = api.list_pods()
                    self._resync(api, pods)
                for event_type, obj in api.watch_pods(rv, self.config.watch_timeout_seconds):
                    if self._stopping.is_set():
                        return
                    if event_type == "ERROR":
                        if obj.get("code") == 410:
                            rv = None
                            break
                        raise ApiStatusError(int(obj.get("code", 500)), obj)
                    rv = obj["metadata"]["resourceVersion"]
                    if event_type != "BOOKMARK":
                        self._handle(api, event_type, obj)
                backoff = 0.1
            except (httpx.HTTPError, ApiStatusError, json.JSONDecodeError, RuntimeError) as exc:
                if self._stopping.is_set():
                    return
                log.info("process kubelet: watch interrupted (%s); again in %.1fs", exc, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _resync(self, api: KubeletApi, pods: list[Obj]) -> None:
        present = {p["metadata"]["uid"] for p in pods}
        with self._lock:
            vanished = [uid for uid in self._workers if uid not in present]
        for uid in vanished:
            self._forget(uid)
        for pod in pods:
            self._handle(api, "ADDED", pod)

    def _forget(self, uid: str) -> None:
        with self._lock:
            worker = self._workers.pop(uid, None)
        if worker is not None:
            worker.removed()

    def _handle(self, api: KubeletApi, event_type: str, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        if event_type == "DELETED":
            self._forget(uid)
            return
        spec = pod.get("spec") or {}
        if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        node = spec.get("nodeName")
        if not node:
            self._schedule(api, pod)
            return
        if node != self.config.node_name:
            return
        with self._lock:
            worker = self._workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            if pod["metadata"].get("deletionTimestamp"):  # finished before we (re)started: just let it go
                api.delete_pod_now(pod["metadata"]["namespace"], pod["metadata"]["name"], uid)
            return
        worker = self._new_worker(pod)
        with self._lock:
            if self._stopping.is_set():
                return
            self._workers[uid] = worker
        worker.thread.start()

    def _new_worker(self, pod: Obj) -> PodWorker:
        """The worker that runs this pod's containers (the container kubelet's runs them with podman)."""
        return PodWorker(self.config, pod)

    # -- scheduling ---------------------------------------------------------------------------------
    def _unschedulable_because(self, pod: Obj) -> str | None:
        annotations = pod["metadata"].get("annotations") or {}
        if annotations.get(POD_FAULT_ANNOTATION) == PodFault.UNSCHEDULABLE:
            return ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                    "1 No preemption victims found for incoming pod.")
        labels = self.config.labels()
        selector = (pod.get("spec") or {}).get("nodeSelector") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            return ("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
        return None

    def _schedule(self, api: KubeletApi, pod: Obj) -> None:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return
        namespace, name = meta["namespace"], meta["name"]
        reason = self._unschedulable_because(pod)
        try:
            if reason is None:
                api.bind(namespace, name)
                api.record_event(pod, "Normal", "Scheduled",
                                 f"Successfully assigned {namespace}/{name} to {self.config.node_name}",
                                 component="default-scheduler")
                return
            conditions = (pod.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "PodScheduled" and c.get("message") == reason for c in conditions):
                return  # already reported
            api.patch_status(namespace, name, unschedulable_status(pod, reason))
            api.record_event(pod, "Warning", "FailedScheduling", reason, component="default-scheduler")
        except ApiStatusError as exc:
            if exc.code not in (404, 409):  # gone, or bound meanwhile
                raise
