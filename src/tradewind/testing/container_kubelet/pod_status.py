"""The status of a pod with several containers: init containers, sidecars and main containers, each with
its own state, and the pod's phase and conditions made from them."""

from __future__ import annotations

from typing import Any

from tradewind.testing.fake_kubernetes.objects import now_rfc3339
from tradewind.testing.process_kubelet.pod_status import condition, node_fields

Obj = dict[str, Any]


def is_sidecar(container: Obj) -> bool:
    return container.get("restartPolicy") == "Always"


class PodStatusBook:
    """Each container's state as the kubelet last saw it; ``document()`` is the status to report."""

    def __init__(self, pod: Obj) -> None:
        spec = pod["spec"]
        self.init = list(spec.get("initContainers") or [])
        self.main = list(spec["containers"])
        self.start_time = now_rfc3339()
        self.qos = (pod.get("status") or {}).get("qosClass", "BestEffort")
        self.states: dict[str, Obj] = {
            c["name"]: {"waiting": {"reason": "PodInitializing" if self.init else "ContainerCreating"}}
            for c in self.main
        }
        self.states.update({c["name"]: {"waiting": {"reason": "PodInitializing"}} for c in self.init})
        self.ids: dict[str, str] = {}
        self.initialized = not self.init
        self.phase = "Pending"
        self.reason: str | None = None
        self.message: str | None = None

    # -- what happened to a container ---------------------------------------------------------------
    def set_waiting(self, name: str, reason: str, message: str | None = None) -> None:
        self.states[name] = {"waiting": {"reason": reason, **({"message": message} if message else {})}}

    def set_running(self, name: str, container_id: str) -> None:
        self.ids[name] = container_id
        self.states[name] = {"running": {"startedAt": now_rfc3339()}}

    def set_terminated(self, name: str, exit_code: int, reason: str, message: str | None = None) -> None:
        started = (self.states.get(name) or {}).get("running", {}).get("startedAt", "1970-01-01T00:00:00Z")
        terminated: Obj = {
            "exitCode": exit_code,
            "reason": reason,
            "startedAt": started,
            "finishedAt": now_rfc3339(),
        }
        if message:
            terminated["message"] = message
        if name in self.ids:
            terminated["containerID"] = self.ids[name]
        self.states[name] = {"terminated": terminated}

    def running(self, name: str) -> bool:
        return "running" in self.states.get(name, {})

    # -- the pod's view -----------------------------------------------------------------------------
    def waiting(self, reason: str, message: str | None = None) -> Obj:
        """Every container not yet started waits for ``reason`` (the process kubelet's report hook)."""
        for container in self.main:
            if "terminated" not in self.states[container["name"]]:
                self.set_waiting(container["name"], reason, message)
        return self.document()

    def finish(self) -> None:
        """The phase once every main container has ended: Succeeded only if all exited 0."""
        codes = [self.states[c["name"]].get("terminated", {}).get("exitCode", 1) for c in self.main]
        self.phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"

    def _status(self, container: Obj) -> Obj:
        name = container["name"]
        state = self.states[name]
        ready = "running" in state
        status: Obj = {
            "name": name,
            "image": container.get("image", ""),
            "imageID": "",
            "ready": ready,
            "restartCount": 0,
            "started": ready,
            "state": state,
            "lastState": {},
        }
        if name in self.ids:
            status["containerID"] = self.ids[name]
            status["imageID"] = container.get("image", "")
        return status

    def document(self) -> Obj:
        done = self.phase in ("Succeeded", "Failed")
        ready = not done and self.initialized and all(self.running(c["name"]) for c in self.main)
        unready = [c["name"] for c in self.main if not self.running(c["name"])]
        not_ready = None if ready else ("PodCompleted" if done else "ContainersNotReady")
        message = None if ready or done else f"containers with unready status: [{' '.join(unready)}]"
        status: Obj = {
            "phase": self.phase,
            "conditions": [
                condition("PodReadyToStartContainers", True),
                condition(
                    "Initialized",
                    self.initialized or done,
                    "PodCompleted" if done else (None if self.initialized else "ContainersNotInitialized"),
                ),
                condition("Ready", ready, not_ready, message),
                condition("ContainersReady", ready, not_ready, message),
                condition("PodScheduled", True),
            ],
            **node_fields(self.start_time, self.qos),
            "containerStatuses": [self._status(c) for c in self.main],
        }
        if self.init:
            status["initContainerStatuses"] = [self._status(c) for c in self.init]
        if self.reason:
            status["reason"] = self.reason
        if self.message:
            status["message"] = self.message
        return status

    def evicted(self, message: str) -> Obj:
        self.phase, self.reason, self.message = "Failed", "Evicted", message
        return self.document()
