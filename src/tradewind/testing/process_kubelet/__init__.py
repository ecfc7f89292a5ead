"""A process kubelet: runs each pod's `base` container as a local subprocess, reporting through the API."""

from tradewind.testing.process_kubelet.config import KubeletConfig
from tradewind.testing.process_kubelet.kubelet import ProcessKubelet

__all__ = ["KubeletConfig", "ProcessKubelet"]
