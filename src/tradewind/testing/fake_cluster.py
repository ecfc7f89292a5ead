"""FakeCluster: the fake API server and a kubelet together, with a kubeconfig for clients.

The kubelet runs pods as host processes (the process kubelet, the default), or with ``containers`` (a
ContainerEngine) as podman containers of the pods' images (the container kubelet).
"""

from __future__ import annotations

import time
from pathlib import Path

from tradewind.testing.container_kubelet import ContainerEngine, ContainerKubelet
from tradewind.testing.fake_kubernetes import FakeKubernetes
from tradewind.testing.fake_kubernetes.faults import Faults
from tradewind.testing.fake_kubernetes.kubeconfig import DEFAULT_CONTEXT
from tradewind.testing.process_kubelet import KubeletConfig, ProcessKubelet


class FakeCluster:
    """A one-node cluster on 127.0.0.1. ``claim_dirs`` maps PersistentVolumeClaim names to local folders
    (a pod mounting one must use that folder as its mountPath: containers run in the host filesystem);
    ``image_env`` is set in every container, as an image's ENV lines would (PATH to ``tradewind`` ...).

    With ``containers``, pods run as podman containers of their images: mounts go where the pod says, and
    ``image_env`` is not used (the image has its own)."""

    def __init__(
        self,
        work_dir: Path,
        *,
        port: int = 0,
        claim_dirs: dict[str, Path] | None = None,
        namespaces: tuple[str, ...] = ("default",),
        history_size: int = 1000,
        bookmark_interval: float = 5.0,
        kubeconfig_path: Path | None = None,
        node_name: str = "process-node",
        image_env: dict[str, str] | None = None,
        containers: ContainerEngine | None = None,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.server = FakeKubernetes(self.work_dir, port=port, namespaces=namespaces, history_size=history_size,
                                     bookmark_interval=bookmark_interval)
        self.kubelet_config = KubeletConfig(
            api_url="", log_dir=self.server.log_dir, node_name=node_name, claim_dirs=dict(claim_dirs or {}),
            image_env=dict(image_env or {}),
        )
        self.containers = containers
        self.kubelet: ProcessKubelet | None = None
        self.kubeconfig_path = kubeconfig_path or self.work_dir / "kubeconfig"
        self.context = DEFAULT_CONTEXT

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def start(self) -> FakeCluster:
        self.server.start()
        self.server.write_kubeconfig(self.kubeconfig_path, context=self.context)
        self.kubelet_config.api_url = self.server.url
        if self.containers is not None:
            self.kubelet = ContainerKubelet(self.kubelet_config, self.containers).start()
        else:
            self.kubelet = ProcessKubelet(self.kubelet_config).start()
        return self

    def stop(self) -> None:
        if self.kubelet is not None:
            self.kubelet.request_stop()
            # End the kubelet's open watch; again if it was just opening one when the first close came
            # (else it would wait for the watch's timeout).
            deadline = time.monotonic() + 10
            while True:
                self.server.store.close_watchers(abrupt=False)
                if self.kubelet.join(0.05) or time.monotonic() > deadline:
                    break
            self.kubelet.stop()
            self.kubelet = None
        self.server.stop()

    def __enter__(self) -> FakeCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
