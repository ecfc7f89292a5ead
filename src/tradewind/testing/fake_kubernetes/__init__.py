"""A fake Kubernetes API server speaking real Kubernetes JSON over HTTP, for tests and local development."""

from tradewind.testing.fake_kubernetes.faults import POD_FAULT_ANNOTATION, PodFault
from tradewind.testing.fake_kubernetes.server import FakeKubernetes

__all__ = ["POD_FAULT_ANNOTATION", "FakeKubernetes", "PodFault"]
