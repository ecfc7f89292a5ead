"""ContainerKubelet: the process kubelet's watch and scheduling, with each pod's containers run by podman."""

from __future__ import annotations

import secrets
from typing import Any

from tradewind.testing.container_kubelet.pod_worker import ContainerPodWorker
from tradewind.testing.container_kubelet.podman import KUBELET_LABEL, ContainerEngine
from tradewind.testing.process_kubelet.config import KubeletConfig
from tradewind.testing.process_kubelet.kubelet import ProcessKubelet
from tradewind.testing.process_kubelet.pod_worker import PodWorker

Obj = dict[str, Any]


class ContainerKubelet(ProcessKubelet):
    """Runs every container of a pod from the pod's image (nothing is pulled: the node has the images it
    has). Every container it makes carries a label of this kubelet, so none outlives it."""

    def __init__(self, config: KubeletConfig, engine: ContainerEngine) -> None:
        super().__init__(config)
        self.engine = engine
        self.instance = secrets.token_hex(6)

    def _new_worker(self, pod: Obj) -> PodWorker:
        return ContainerPodWorker(self.config, pod, self.engine, self.instance)

    def request_stop(self) -> None:
        super().request_stop()
        self.engine.remove_labelled(KUBELET_LABEL, self.instance)
