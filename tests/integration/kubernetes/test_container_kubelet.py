"""The container kubelet on its own, through the official client: pods run as podman containers of their
image, with their env, volumes, security context, limits, init containers and sidecars, and stop on delete.

It runs the small base image the shared container-engine tool builds (no Tradewind image build needed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import ApiException, CoreV1Api
from tests.container_image import ContainerEngineMissing, find_engine
from tests.required_tools import missing_tool
from tests.waiting import wait_for

from tradewind.testing.container_kubelet import ContainerEngine
from tradewind.testing.fake_cluster import FakeCluster

pytestmark = pytest.mark.container


@pytest.fixture(scope="module")
def base_image() -> tuple[ContainerEngine, str]:
    try:
        engine = find_engine()
    except ContainerEngineMissing as exc:
        missing_tool(f"no container engine: {exc}")
    return ContainerEngine(list(engine.run_flags)), engine.base_image


@pytest.fixture(scope="module")
def cluster(
    base_image: tuple[ContainerEngine, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FakeCluster, CoreV1Api, Path]]:
    work = tmp_path_factory.mktemp("container_kubelet")
    claim = work / "claim"
    claim.mkdir()
    with FakeCluster(work / "cluster", claim_dirs={"data": claim}, containers=base_image[0]) as fake:
        api = CoreV1Api(config.new_client_from_config(config_file=str(fake.kubeconfig_path)))
        try:
            yield fake, api, claim
        finally:
            api.api_client.close()


def finished(api: CoreV1Api, name: str) -> Any:
    pod = api.read_namespaced_pod(name, "default")
    return pod if pod.status.phase in ("Succeeded", "Failed") else None


def gone(api: CoreV1Api, name: str) -> bool:
    try:
        api.read_namespaced_pod(name, "default")
    except ApiException as exc:
        return exc.status == 404
    return False


def test_a_pod_runs_as_a_kubelet_runs_it(
    cluster: tuple[FakeCluster, CoreV1Api, Path], base_image: tuple[ContainerEngine, str]
) -> None:
    fake, api, claim = cluster
    image = base_image[1]
    fake.server.create_secret("default", "creds", {"password": "hunter2"})
    fake.server.create_configmap("default", "settings", {"GREETING": "hi", "app.conf": "level=3"})
    script = (
        'echo "uid=$(id -u) gid=$(id -g) host=$(hostname)"; echo "$PASSWORD $GREETING $POD/$NS $IP"; '
        "cat /etc/app/app.conf; echo; cat /data/from-init.txt; touch /root-file 2>/dev/null || echo read-only; "
        "echo kept > /data/from-main.txt; echo to-stderr >&2; exit 3"
    )
    pod = {
        "metadata": {"name": "full"},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 50000, "runAsGroup": 0, "fsGroup": 0, "runAsNonRoot": True},
            "initContainers": [{
                "name": "prepare", "image": image, "command": ["sh", "-c", "echo from-init > /data/from-init.txt"],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }],
            "containers": [{
                "name": "base", "image": image, "command": ["sh", "-c"], "args": [script],
                "env": [
                    {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ],
                "envFrom": [{"configMapRef": {"name": "settings"}}],
                "securityContext": {"readOnlyRootFilesystem": True},
                "resources": {"limits": {"memory": "128Mi", "cpu": "500m"}},
                "volumeMounts": [
                    {"name": "data", "mountPath": "/data"},
                    {"name": "conf", "mountPath": "/etc/app", "readOnly": True},
                ],
            }],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "conf", "configMap": {"name": "settings", "items": [{"key": "app.conf", "path": "app.conf"}]}},
            ],
        },
    }  # fmt: skip
    api.create_namespaced_pod("default", pod)
    done = wait_for(lambda: finished(api, "full"), timeout=120, what="pod full to finish")
    assert done.status.phase == "Failed"
    assert done.status.init_container_statuses[0].state.terminated.reason == "Completed"
    terminated = done.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")
    lines = api.read_namespaced_pod_log("full", "default", container="base").splitlines()
    assert "to-stderr" in lines  # stderr too; its order against stdout is the pipes', as on a real node
    assert [line for line in lines if line != "to-stderr"] == [
        "uid=50000 gid=0 host=full",
        "hunter2 hi full/default 127.0.0.1",
        "level=3",
        "from-init",
        "read-only",
    ]
    assert (claim / "from-main.txt").read_text() == "kept\n"  # the claim is the host folder
    api.delete_namespaced_pod("full", "default")
    wait_for(lambda: gone(api, "full"), timeout=60, what="the finished pod to go")


def test_delete_stops_containers_with_their_grace_and_sidecars_last(
    cluster: tuple[FakeCluster, CoreV1Api, Path], base_image: tuple[ContainerEngine, str]
) -> None:
    _fake, api, _claim = cluster
    image = base_image[1]
    handler = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: (print('got SIGTERM', flush=True), sys.exit(0)))\n"
        "print('up', flush=True)\n"
        "time.sleep(120)\n"
    )
    api.create_namespaced_pod("default", {
        "metadata": {"name": "stoppable"},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 3,
            "initContainers": [{"name": "side", "image": image, "restartPolicy": "Always",
                                "command": ["python", "-u", "-c", handler.replace("up", "side up")]}],
            "containers": [{"name": "base", "image": image, "command": ["python", "-u", "-c", handler]}],
        },
    })  # fmt: skip
    wait_for(lambda: "up" in api.read_namespaced_pod_log("stoppable", "default", container="base"),
             timeout=120, what="the main container to run", ignoring=(ApiException,))  # fmt: skip
    api.create_namespaced_pod("default", {
        "metadata": {"name": "greedy"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "base", "image": image, "command": ["python", "-c", "b = bytearray(400 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
            "resources": {"limits": {"memory": "64Mi"}}}]},
    })  # fmt: skip
    hoarder = "python -c \"b = bytearray(400 * 2**20); b[::4096] = b'x' * len(b[::4096])\""
    api.create_namespaced_pod("default", {  # PID 1 outlives its OOM-killed child, and exits 3 itself
        "metadata": {"name": "greedy-child"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "base", "image": image, "command": ["sh", "-c", f'{hoarder}; echo "child ended $?"; exit 3'],
            "resources": {"limits": {"memory": "64Mi"}}}]},
    })  # fmt: skip
    api.create_namespaced_pod("default", {
        "metadata": {"name": "rooted"},
        "spec": {"restartPolicy": "Never", "securityContext": {"runAsNonRoot": True},
                 "containers": [{"name": "base", "image": image, "command": ["true"]}]},
    })  # fmt: skip
    api.create_namespaced_pod("default", {
        "metadata": {"name": "commandless"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "base", "image": image, "command": ["/no/such"]}]},
    })  # fmt: skip
    api.create_namespaced_pod("default", {
        "metadata": {"name": "imageless"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "base", "image": "localhost/absent:1"}]},
    })  # fmt: skip

    last: dict[str, Any] = {}

    def record_until_gone() -> bool:
        try:
            last["pod"] = api.read_namespaced_pod("stoppable", "default")
        except ApiException as exc:
            return exc.status == 404
        return False

    api.delete_namespaced_pod("stoppable", "default")
    wait_for(record_until_gone, timeout=60, what="the deleted pod to go", interval=0.02)
    pod = last["pod"]
    main = pod.status.container_statuses[0].state.terminated
    side = pod.status.init_container_statuses[0].state.terminated
    assert (main.exit_code, side.exit_code) == (0, 0), "both stopped by SIGTERM, within the grace"
    assert side.finished_at >= main.finished_at, "the sidecar stops after the main container"

    oom = wait_for(lambda: finished(api, "greedy"), timeout=120, what="pod greedy to be killed")
    assert oom.status.container_statuses[0].state.terminated.reason == "OOMKilled"
    assert oom.status.container_statuses[0].state.terminated.exit_code == 137
    child = wait_for(lambda: finished(api, "greedy-child"), timeout=120, what="pod greedy-child to end")
    terminated = child.status.container_statuses[0].state.terminated
    assert (terminated.reason, terminated.exit_code) == ("OOMKilled", 3), "a kubelet's report: OOM in the cgroup"
    assert "child ended 137" in api.read_namespaced_pod_log("greedy-child", "default")

    unstarted = wait_for(lambda: finished(api, "commandless"), timeout=120, what="pod commandless to fail")
    terminated = unstarted.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (128, "StartError")
    assert "/no/such" in terminated.message

    def waiting(name: str) -> Any:
        statuses = api.read_namespaced_pod(name, "default").status.container_statuses or []
        return statuses[0].state.waiting if statuses and statuses[0].state.waiting else None

    refused = wait_for(
        lambda: (w := waiting("rooted")) and w.reason == "CreateContainerConfigError" and w,
        timeout=60, what="a root container to be refused",
    )  # fmt: skip
    assert "runAsNonRoot" in refused.message
    wait_for(lambda: (w := waiting("imageless")) and w.reason == "ImagePullBackOff", timeout=60,
             what="an image the node lacks to back off")  # fmt: skip
