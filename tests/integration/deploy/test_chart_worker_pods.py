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

Render = Callable[..., list[Manifest]]
CASES = [
    p for p in CI_VALUES if (yaml.safe_load(p.read_text()).get("executor") or "kubernetes") == "kubernetes"
]


def build(
    manifests: list[Manifest], home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], Any]:
    scheduler = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    settings = load_settings_as(container_env(manifests, scheduler), toml_of(manifests), home, monkeypatch)
    workload = ExecuteTask(
        dag_id="etl", task_id="load", run_id="manual__2024-01-01", try_number=1, dag_rel_path="etl.py"
    )
    pod = pod_spec.build_worker_pod(
        workload,
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
    assert base["command"][:3] == ["tradewind", "tasks", "run"] or base.get("args", [])[:3] == [
        "tradewind",
        "tasks",
        "run",
    ]
    assert base["image"] == settings.kubernetes.image
    mounts = {m["mountPath"]: m for m in base["volumeMounts"]}
    assert len(mounts) == len(base["volumeMounts"]), "two mounts at one path"
    k = settings.kubernetes
    for path in (k.dags_mount_path, k.logs_mount_path, "/tmp", "/opt/tradewind/tradewind.toml"):
        assert mounts[path]["name"] in volumes, f"{path} mounts a missing volume"
    env = {e["name"]: e for e in base.get("env", [])}
    assert env["TRADEWIND__CORE__DAGS_FOLDER"]["value"] == k.dags_mount_path
    from_objects = [(kind, ref["name"]) for source in base["envFrom"] for kind, ref in source.items()]
    assert ("secretRef", k.env_from_secret) in from_objects and (
        "configMapRef",
        k.env_from_configmap,
    ) in from_objects
    assert len(from_objects) == len(set(from_objects)), f"envFrom doubled: {from_objects}"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    assert pod["metadata"]["namespace"] == k.namespace
