"""A container kubelet: the process kubelet's pod life, with each pod's containers run by podman."""

from tradewind.testing.container_kubelet.kubelet import ContainerKubelet
from tradewind.testing.container_kubelet.podman import ContainerEngine

__all__ = ["ContainerEngine", "ContainerKubelet"]
