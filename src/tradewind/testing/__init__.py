"""Test harnesses that stand in for real infrastructure: a fake Kubernetes API server and a process kubelet.

Outside the product layers: product code never imports this package; the CLI's ``kubernetes fake-cluster``
command and the tests do.
"""
