"""Opt-in, against a real cluster (kind, for example): `tradewind deploy`, trigger an example DAG through the
REST API, see worker pods appear and go, upgrade without losing secrets, `tradewind deploy delete --purge`.

Needs KUBECONFIG and TRADEWIND_DEPLOY_IMAGE (REPOSITORY:TAG, pullable by the cluster); optional
TRADEWIND_DEPLOY_VALUES (a values file, e.g. deploy/examples/kind-values.yaml) and TRADEWIND_E2E_DAG
(default example_bash_operator). See docs/deploy.md, "Testing against a real cluster"."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.waiting import wait_for
from tradewind.deploy.kubectl import Kubectl
from tradewind.deploy.tools import find_tool

pytestmark = pytest.mark.k8s_real

RELEASE = "tw"
DEPLOY_TIMEOUT = 900


@pytest.fixture(scope="module")
def target() -> Iterator[dict[str, str]]:
    image = os.environ.get("TRADEWIND_DEPLOY_IMAGE")
    if not os.environ.get("KUBECONFIG") or not image:
        pytest.skip("needs KUBECONFIG pointing at a real cluster and TRADEWIND_DEPLOY_IMAGE=REPOSITORY:TAG")
    repository, _, tag = image.rpartition(":")
    namespace = f"tw-e2e-{uuid.uuid4().hex[:6]}"
    yield {
        "namespace": namespace,
        "repository": repository,
        "tag": tag,
        "password": secrets.token_urlsafe(18),
        "values": os.environ.get("TRADEWIND_DEPLOY_VALUES", ""),
    }
    kubectl = find_tool("kubectl")
    subprocess.run(
        [sys.executable, "-m", "tradewind.cli.main", "deploy", "delete", "--release", RELEASE,
         "--namespace", namespace, "--purge"],
        capture_output=True, check=False, timeout=600,
    )  # fmt: skip
    subprocess.run(
        [str(kubectl), "delete", "namespace", namespace, "--wait=false"], capture_output=True, check=False
    )


def deploy(target: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "tradewind.cli.main", "deploy", "--release", RELEASE,
        "--namespace", target["namespace"], "--image", target["repository"], "--tag", target["tag"],
        "--dags", "persistent", "--timeout", str(DEPLOY_TIMEOUT),
        "--set", "config.core.load_examples=true", "--set", "config.core.dags_are_paused_at_creation=false",
        "--set", f"admin.password={target['password']}",
    ]  # fmt: skip
    if target["values"]:
        command += ["--values", target["values"]]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=DEPLOY_TIMEOUT + 120)


def worker_pods(kubectl: Kubectl, namespace: str) -> list[str]:
    pods = kubectl.get("pods", namespace, selector="app.kubernetes.io/component=worker")
    return [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]


def release_secrets(kubectl: Kubectl, namespace: str) -> dict[str, dict[str, str]]:
    found = kubectl.get("secrets", namespace, selector=f"app.kubernetes.io/instance={RELEASE}")
    return {s["metadata"]["name"]: s.get("data") or {} for s in found}


def test_deploy_trigger_a_dag_and_watch_worker_pods_come_and_go(target: dict[str, str]) -> None:
    first = deploy(target)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Tradewind is up" in first.stdout and "Log in as admin" in first.stdout
    namespace = target["namespace"]
    kubectl = Kubectl(find_tool("kubectl"))
    secrets_before = release_secrets(kubectl, namespace)

    dag_id = os.environ.get("TRADEWIND_E2E_DAG", "example_bash_operator")
    auth = ("admin", target["password"])
    service = f"service/{RELEASE}-tradewind-webserver"
    with kubectl.port_forward(namespace, service, 8080) as port:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", auth=auth, timeout=30)
        wait_for(lambda: api.get(f"/dags/{dag_id}").status_code == 200, timeout=300, interval=2,
                 what=f"DAG {dag_id} to appear (is load_examples on?)")  # fmt: skip
        api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        created = api.post(f"/dags/{dag_id}/dagRuns", json={"conf": {}})
        assert created.status_code in (200, 201), created.text
        run_id = created.json()["dag_run_id"]

        seen: set[str] = set()

        def finished() -> str | None:
            seen.update(worker_pods(kubectl, namespace))
            state = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
            return state if state in ("success", "failed") else None

        state = wait_for(finished, timeout=900, interval=2, what=f"run {run_id} to finish",
                         details=lambda: f"worker pods seen: {sorted(seen)}")  # fmt: skip
    assert state == "success"
    assert seen, "no worker pod was ever seen: the Kubernetes executor did not run the tasks"
    wait_for(lambda: not worker_pods(kubectl, namespace), timeout=180, interval=2,
             what="the worker pods to be deleted", details=lambda: str(worker_pods(kubectl, namespace)))  # fmt: skip

    # An upgrade keeps every generated secret (read back with lookup).
    second = deploy(target)
    assert second.returncode == 0, second.stdout + second.stderr
    assert release_secrets(kubectl, namespace) == secrets_before
    admin = secrets_before[f"{RELEASE}-tradewind-admin"]["password"]
    assert base64.b64decode(admin).decode() == target["password"]

    deleted = subprocess.run(
        [sys.executable, "-m", "tradewind.cli.main", "deploy", "delete", "--release", RELEASE,
         "--namespace", namespace, "--purge"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    leftovers = kubectl.get(
        "pods,persistentvolumeclaims,secrets", namespace, selector=f"app.kubernetes.io/instance={RELEASE}"
    )
    assert not [o["metadata"]["name"] for o in leftovers if not o["metadata"].get("deletionTimestamp")]
