"""The chart and the Kubernetes executor together: the executor's own pod builder, given the rendered pod
template and the settings the scheduler loads, makes worker pods that are valid and mount what it expects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tradewind.core.workload import ExecuteTask

from .conftest import (
    CI_VALUES,
    KUBE_VERSION,
    Manifest,
    container_env,
    load_settings_as,
    named,
    toml_of,
    worker_pod_template,
)

pod_spec = pytest.importorskip("tradewind.executors.kubernetes.pod_spec")
pod_identity = pytest.importorskip("tradewind.executors.kubernetes.pod_identity")

Render = Callable[..., list[Manifest]]
WORKLOAD = ExecuteTask(
    dag_id="etl", task_id="load", run_id="manual__2024-01-01", try_number=1, dag_rel_path="etl.py",
    token="the-token-of-this-try",
)  # fmt: skip
CASES = [
    p for p in CI_VALUES if (yaml.safe_load(p.read_text()).get("executor") or "kubernetes") == "kubernetes"
]


def build(
    manifests: list[Manifest], home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], Any]:
    scheduler = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    settings = load_settings_as(container_env(manifests, scheduler), toml_of(manifests), home, monkeypatch)
    pod = pod_spec.build_worker_pod(
        WORKLOAD,
        pod_spec.WorkerPodConfig.from_settings(settings.kubernetes),
        template=worker_pod_template(manifests),
        owner="scheduler-0",
    )
    return pod, settings


@pytest.mark.parametrize("values", CASES, ids=[p.name for p in CASES])
def test_executor_builds_valid_worker_pods_from_the_chart(
    render: Render, values: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(values=[values])
    pod, settings = build(manifests, tmp_path / "home", monkeypatch)
    kubernetes_validate.validate(pod, KUBE_VERSION, strict=True)

    volumes = [v["name"] for v in pod["spec"]["volumes"]]
    assert len(volumes) == len(set(volumes)), f"volumes doubled by the executor's merge: {volumes}"
    (base,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
    # The try's command replaces the image's entrypoint; no args are appended to it.
    assert base["command"][:3] == ["tradewind", "tasks", "run"]
    assert base.get("args", []) == []
    assert base["image"] == settings.kubernetes.image
    mounts = {m["mountPath"]: m for m in base["volumeMounts"]}
    assert len(mounts) == len(base["volumeMounts"]), "two mounts at one path"
    k = settings.kubernetes
    for path in (k.dags_mount_path, k.logs_mount_path, "/tmp", "/opt/tradewind/tradewind.toml"):
        assert mounts[path]["name"] in volumes, f"{path} mounts a missing volume"
    env = {e["name"]: e for e in base.get("env", [])}
    assert env["TRADEWIND__CORE__DAGS_FOLDER"]["value"] == k.dags_mount_path
    from_objects = [(kind, ref["name"]) for source in base["envFrom"] for kind, ref in source.items()]
    assert from_objects == [("configMapRef", k.env_from_configmap)], f"envFrom: {from_objects}"
    # No Secret but the try's own token: the runner reaches shared state through the execution API with it.
    secret_refs = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in base["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert secret_refs <= {pod_identity.token_secret_name(WORKLOAD.try_key)}
    assert "the-token-of-this-try" not in yaml.safe_dump(pod)
    worker_env = container_env(manifests, base, namespace=k.namespace)
    assert "TRADEWIND__DATABASE__URL" not in worker_env
    assert not [key for key in worker_env if key.startswith("TRADEWIND__EXECUTION_API__JWT")]
    assert settings.execution_api.url == "http://tw-tradewind-webserver.data.svc:8080/execution"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    assert pod["metadata"]["namespace"] == k.namespace
