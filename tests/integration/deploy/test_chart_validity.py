"""The chart passes `helm lint --strict` and renders manifests valid for Kubernetes, for every values file
of the chart-testing matrix (ci/*-values.yaml) and for the defaults."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.required_tools import missing_tool

from .conftest import (
    CHART,
    CI_VALUES,
    EXAMPLE_VALUES,
    KUBE_VERSION,
    OLDEST_KUBE_VERSION,
    Manifest,
    helm_template,
)

CASES = (
    [pytest.param((), id="defaults")]
    + [pytest.param((p,), id=p.name.removesuffix("-values.yaml")) for p in CI_VALUES]
    + [pytest.param((p,), id="example-" + p.name.removesuffix("-values.yaml")) for p in EXAMPLE_VALUES]
)


def test_the_matrix_covers_every_executor_dag_source_database_ingress_and_policy_choice() -> None:
    values = [yaml.safe_load(p.read_text()) for p in CI_VALUES]
    assert {v.get("executor", "kubernetes") for v in values} == {"kubernetes", "celery", "local"}
    assert {v.get("dags", {}).get("mode", "persistent") for v in values} == {"persistent", "git"}
    assert {v.get("postgresql", {}).get("enabled", True) for v in values} == {True, False}
    assert {v.get("webserver", {}).get("ingress", {}).get("enabled", False) for v in values} == {True, False}
    assert {v.get("networkPolicy", {}).get("enabled", False) for v in values} == {True, False}


@pytest.mark.parametrize("values", CASES)
def test_helm_lint_strict_passes(helm: Path, values: tuple[Path, ...]) -> None:
    command = [str(helm), "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION]
    for path in values:
        command += ["--values", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def _validate(manifest: Manifest, version: str) -> None:
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(
            f"{manifest['kind']}/{manifest['metadata']['name']} invalid for Kubernetes {version}: "
            f"{path}: {exc.message}"
        )
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(exc.message)


@pytest.mark.parametrize("version", [KUBE_VERSION, OLDEST_KUBE_VERSION])
@pytest.mark.parametrize("values", CASES)
def test_every_rendered_manifest_validates_strictly(
    render: Callable[..., list[Manifest]], values: tuple[Path, ...], version: str
) -> None:
    manifests = render(values=values)
    assert len(manifests) >= 10
    for manifest in manifests:
        _validate(manifest, version)
        if manifest["kind"] == "ConfigMap" and "pod_template.yaml" in manifest["data"]:
            _validate(yaml.safe_load(manifest["data"]["pod_template.yaml"]), version)


def test_kubernetes_validate_command_accepts_the_rendered_chart(helm: Path, tmp_path: Path) -> None:
    """The same check through the kubernetes-validate program, as CI scripts run it."""
    program = Path(sys.executable).parent / "kubernetes-validate"
    if not program.exists():
        missing_tool(f"no kubernetes-validate program next to the interpreter ({program})")
    for values in [(), *[(p,) for p in CI_VALUES]]:
        rendered = helm_template(helm, values=values)
        assert rendered.returncode == 0, rendered.stderr
        out = tmp_path / "manifests.yaml"
        out.write_text(rendered.stdout)
        result = subprocess.run(
            [str(program), "--strict", "--kubernetes-version", KUBE_VERSION, "--quiet", str(out)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{values}: {result.stdout}{result.stderr}"
        assert "WARN" not in result.stdout, f"{values}: {result.stdout}"


def test_validation_rejects_an_invalid_manifest() -> None:
    """Guard on the guard: strict validation does catch a misplaced field."""
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"port": 8080}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBE_VERSION, strict=True)
