"""Fixtures for the chart and `tradewind deploy` tests: the helm program, the chart, rendering helpers."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.required_tools import missing_tool
from tradewind.config.settings import Settings, load_settings
from tradewind.deploy.chart import packaged_chart
from tradewind.deploy.tools import find_tool
from tradewind.sdk.errors import NotFoundError

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "tradewind"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
#: Documented example values (deploy/examples): they must render and validate as well.
EXAMPLE_VALUES = sorted((REPO / "deploy" / "examples").glob("*-values.yaml"))
#: Manifests are rendered for, and validated against, a current Kubernetes release.
KUBE_VERSION = "1.35.0"
#: The oldest release Chart.yaml's kubeVersion admits: everything must validate there too.
OLDEST_KUBE_VERSION = "1.29.0"

Manifest = dict[str, Any]


@pytest.fixture(scope="session")
def helm() -> Path:
    """helm from PATH or .tools/bin (scripts/install-helm.sh); without it the tests skip, or fail under CI."""
    try:
        return find_tool("helm")
    except NotFoundError as exc:
        missing_tool(f"helm is not installed: {exc}")


@pytest.fixture(scope="session")
def chart() -> Path:
    assert packaged_chart() == CHART.resolve(), "tradewind/deploy/chart must point at deploy/helm/tradewind"
    return CHART


def helm_template(
    helm: Path,
    *,
    values: Sequence[Path] = (),
    sets: Sequence[str] = (),
    release: str = "tw",
    namespace: str = "data",
    kube_version: str | None = KUBE_VERSION,
) -> subprocess.CompletedProcess[str]:
    command = [str(helm), "template", release, str(CHART), "--namespace", namespace]
    if kube_version:
        command += ["--kube-version", kube_version]
    for path in values:
        command += ["--values", str(path)]
    for item in sets:
        command += ["--set", item]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def parse_manifests(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="session")
def render(helm: Path) -> Iterator[Callable[..., list[Manifest]]]:
    """render(values=[...], sets=[...]) -> the manifests, cached per argument set; fails on helm errors."""
    cache: dict[tuple[Any, ...], list[Manifest]] = {}

    def _render(
        values: Sequence[Path] = (), sets: Sequence[str] = (), namespace: str = "data"
    ) -> list[Manifest]:
        key = (tuple(values), tuple(sets), namespace)
        if key not in cache:
            result = helm_template(helm, values=values, sets=sets, namespace=namespace)
            assert result.returncode == 0, result.stderr
            cache[key] = parse_manifests(result.stdout)
        return cache[key]

    yield _render


def by_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: list[Manifest], kind: str, suffix: str) -> Manifest:
    found = [m for m in by_kind(manifests, kind) if m["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, (
        f"expected one {kind} named *{suffix}, found {[m['metadata']['name'] for m in found]}"
    )
    return found[0]


def pod_specs(manifests: list[Manifest]) -> list[tuple[str, dict[str, Any]]]:
    """(owner, pod spec) of every workload, and of the worker pod template inside its ConfigMap."""
    specs = []
    for m in manifests:
        if m["kind"] in ("Deployment", "StatefulSet", "Job"):
            specs.append((f"{m['kind']}/{m['metadata']['name']}", m["spec"]["template"]["spec"]))
        elif m["kind"] == "Pod":
            specs.append((f"Pod/{m['metadata']['name']}", m["spec"]))
        elif m["kind"] == "ConfigMap" and "pod_template.yaml" in m.get("data", {}):
            specs.append(("worker pod template", yaml.safe_load(m["data"]["pod_template.yaml"])["spec"]))
    return specs


def worker_pod_template(manifests: list[Manifest]) -> Manifest:
    cm = named(manifests, "ConfigMap", "-pod-template")
    pod: Manifest = yaml.safe_load(cm["data"]["pod_template.yaml"])
    return pod


def toml_of(manifests: list[Manifest], namespace: str | None = None) -> str:
    configs = [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-config")]
    if namespace:
        configs = [m for m in configs if m["metadata"]["namespace"] == namespace]
    text: str = configs[0]["data"]["tradewind.toml"]
    return text


def container_env(
    manifests: list[Manifest], container: dict[str, Any], namespace: str = "data"
) -> dict[str, str]:
    """The environment a kubelet would give ``container``, resolved from the rendered objects (values in
    Secrets the chart does not create, such as existingSecret, resolve to a marker)."""
    objects = {
        (m["kind"], m["metadata"]["name"]): m
        for m in manifests
        if m["metadata"].get("namespace", namespace) == namespace
    }
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(objects[("ConfigMap", source["configMapRef"]["name"])]["data"])
        else:
            secret = objects.get(("Secret", source["secretRef"]["name"]), {"data": {}})
            env.update({k: base64.b64decode(v).decode() for k, v in secret["data"].items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "secretKeyRef" not in item["valueFrom"]:
            env[item["name"]] = f"<{next(iter(item['valueFrom']))}>"  # fieldRef and the like: the kubelet's
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            referenced = objects.get(("Secret", ref["name"]))
            env[item["name"]] = (
                base64.b64decode(referenced["data"][ref["key"]]).decode()
                if referenced
                else f"<{ref['name']}>"
            )
    return env


def load_settings_as(env: dict[str, str], toml: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Tradewind's own Settings, as a container with ``env`` and the rendered tradewind.toml sees them."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "tradewind.toml").write_text(toml)
    for key in list(os.environ):
        if key.startswith("TRADEWIND"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TRADEWIND_HOME", str(home))
    return load_settings()
