"""Our kubectl wrapper with the real kubectl, talking Kubernetes JSON over HTTP to the project's fake API
server: reaching the cluster, listing by label selector, a missing object, deleting by selector."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.required_tools import missing_tool
from tradewind.deploy.kubectl import Kubectl
from tradewind.deploy.rollout import snapshot
from tradewind.deploy.tools import find_tool
from tradewind.sdk.errors import NotFoundError

fake_kubernetes = pytest.importorskip("tradewind.testing.fake_kubernetes")


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kubectl]:
    try:
        program = find_tool("kubectl")
    except NotFoundError as exc:
        missing_tool(f"kubectl is not installed: {exc}")
    with fake_kubernetes.FakeKubernetes(tmp_path, namespaces=("default", "data")) as server:
        monkeypatch.setenv("KUBECONFIG", str(server.write_kubeconfig()))
        yield Kubectl(program)


def _run(kubectl: Kubectl, *args: str) -> None:
    result = subprocess.run(kubectl.command(*args), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_reaches_the_cluster_and_reads_objects_by_selector(kubectl: Kubectl, tmp_path: Path) -> None:
    assert kubectl.check_cluster().startswith("v1.")
    for name, instance in (("tw-env", "tw"), ("other-env", "other")):
        # From a manifest: `kubectl create secret generic` (1.33) sends protobuf, which only a real API
        # server reads; the fake answers 415 (and serves no OpenAPI document to validate against).
        manifest = tmp_path / f"{name}.json"
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": {"K": "dg=="}}
        manifest.write_text(json.dumps(secret))
        _run(kubectl, "create", "--namespace=data", "--validate=false", "-f", str(manifest))
        _run(kubectl, "label", "secret", name, "--namespace=data", f"app.kubernetes.io/instance={instance}")
    found = kubectl.get("secrets", "data", selector="app.kubernetes.io/instance=tw")
    assert [s["metadata"]["name"] for s in found] == ["tw-env"]
    assert kubectl.get_one("secret", "tw-env", "data") is not None
    assert kubectl.get_one("secret", "missing", "data") is None
    assert "tw-env" in kubectl.delete("secrets", "data", selector="app.kubernetes.io/instance=tw")
    assert [s["metadata"]["name"] for s in kubectl.get("secrets", "data")] == ["other-env"]


def test_pods_listed_by_kubectl_read_as_a_rollout(kubectl: Kubectl) -> None:
    _run(
        kubectl, "run", "tw-webserver-0", "--namespace=data", "--image=tradewind:0.1.0", "--restart=Never",
        "--labels=app.kubernetes.io/instance=tw,app.kubernetes.io/component=webserver",
    )  # fmt: skip
    current = snapshot([], kubectl.get("pods", "data", selector="app.kubernetes.io/instance=tw"))
    (pod,) = current.pods
    assert (pod.name, pod.component, pod.ready) == ("tw-webserver-0", "webserver", False)
    assert not current.done
