"""Pod status documents as a kubelet reports them: phase, conditions, container states."""

from __future__ import annotations

from typing import Any

from tradewind.testing.fake_kubernetes.objects import now_rfc3339

Obj = dict[str, Any]
NODE_IP = "127.0.0.1"


def condition(kind: str, status: bool, reason: str | None = None, message: str | None = None) -> Obj:
    result: Obj = {"type": kind, "status": "True" if status else "False", "lastProbeTime": None,
                   "lastTransitionTime": now_rfc3339()}
    if reason:
        result["reason"] = reason
    if message:
        result["message"] = message
    return result


def node_fields(start_time: str, qos: str) -> Obj:
    """The fields of a running pod's status that name its node and class (every pod here is on one node)."""
    return {
        "hostIP": NODE_IP,
        "hostIPs": [{"ip": NODE_IP}],
        "podIP": NODE_IP,
        "podIPs": [{"ip": NODE_IP}],
        "startTime": start_time,
        "qosClass": qos,
    }


def unschedulable_status(pod: Obj, message: str) -> Obj:
    status = dict(pod.get("status") or {})
    status["phase"] = "Pending"
    status["conditions"] = [condition("PodScheduled", False, "Unschedulable", message)]
    return status


class StatusBuilder:
    """Keeps what does not change over a pod's life (start time, QoS class) and builds each report."""

    def __init__(self, pod: Obj, container: Obj) -> None:
        self.pod = pod
        self.container = container
        self.start_time = now_rfc3339()
        self.qos = (pod.get("status") or {}).get("qosClass", "BestEffort")
        self.started_at: str | None = None
        self.container_id: str | None = None

    def _base(self, phase: str, ready: bool, reason: str | None = None) -> Obj:
        not_ready = None if ready else ("PodCompleted" if phase in ("Succeeded", "Failed") else "ContainersNotReady")
        message = None if ready or not_ready == "PodCompleted" else \
            f"containers with unready status: [{self.container['name']}]"
        return {
            "phase": phase,
            "conditions": [
                condition("PodReadyToStartContainers", phase != "Failed" or self.started_at is not None),
                condition("Initialized", True, "PodCompleted" if phase in ("Succeeded", "Failed") else None),
                condition("Ready", ready, not_ready, message),
                condition("ContainersReady", ready, not_ready, message),
                condition("PodScheduled", True),
            ],
            **node_fields(self.start_time, self.qos),
            **({"reason": reason} if reason else {}),
        }

    def _container(self, state: Obj, *, ready: bool) -> Obj:
        status: Obj = {
            "name": self.container["name"],
            "image": self.container.get("image", ""),
            "imageID": "",
            "ready": ready,
            "restartCount": 0,
            "started": "running" in state,
            "state": state,
            "lastState": {},
        }
        if self.container_id:
            status["containerID"] = self.container_id
            status["imageID"] = f"process://{self.container.get('image', '')}"
        return status

    def waiting(self, reason: str, message: str | None = None) -> Obj:
        status = self._base("Pending", False)
        waiting: Obj = {"reason": reason}
        if message:
            waiting["message"] = message
        status["containerStatuses"] = [self._container({"waiting": waiting}, ready=False)]
        return status

    def running(self, pid: int) -> Obj:
        self.started_at = now_rfc3339()
        self.container_id = f"process://{pid}"
        status = self._base("Running", True)
        status["containerStatuses"] = [self._container({"running": {"startedAt": self.started_at}}, ready=True)]
        return status

    def start_failed(self, message: str) -> Obj:
        """The runtime could not start the process (reason StartError; the container never ran)."""
        status = self._base("Failed", False)
        terminated: Obj = {"exitCode": 128, "reason": "StartError", "message": message,
                           "startedAt": "1970-01-01T00:00:00Z", "finishedAt": now_rfc3339()}
        status["containerStatuses"] = [self._container({"terminated": terminated}, ready=False)]
        return status

    def terminated(self, exit_code: int, reason: str, *, pod_reason: str | None = None,
                   pod_message: str | None = None, signal: int | None = None) -> Obj:
        phase = "Succeeded" if exit_code == 0 and pod_reason is None else "Failed"
        status = self._base(phase, False, pod_reason)
        if pod_message:
            status["message"] = pod_message
        if self.started_at is None:
            # Never started: a kubelet that gives up on a pod leaves the container waiting.
            status["containerStatuses"] = [self._container({"waiting": {"reason": "ContainerCreating"}},
                                                           ready=False)]
            return status
        terminated: Obj = {"exitCode": exit_code, "reason": reason, "startedAt": self.started_at,
                           "finishedAt": now_rfc3339(), "containerID": self.container_id}
        if signal is not None:
            terminated["signal"] = signal
        status["containerStatuses"] = [self._container({"terminated": terminated}, ready=False)]
        return status

    def evicted(self, message: str) -> Obj:
        return self.terminated(137, "Error", pod_reason="Evicted", pod_message=message)
