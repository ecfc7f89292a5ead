"""The chart's remote logging values: the settings reach every Tradewind container and the worker pod template,
the connection's Secret only the services that look connections up; the logs claim is optional; the
webserver's read-only rights on worker pods are opt-in."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import (
    Manifest,
    by_kind,
    container_env,
    helm_template,
    load_settings_as,
    named,
    pod_specs,
    toml_of,
    worker_pod_template,
)

Render = Callable[..., list[Manifest]]
REMOTE = [
    "logs.remote.baseLogFolder=s3://tw-logs/prod",
    "logs.remote.connId=logs_s3",
    "logs.remote.connectionSecret.name=logs-s3-connection",
    "logs.remote.deleteLocalLogs=true",
]
SERVICES = ("-scheduler", "-webserver", "-triggerer")


def _containers(manifests: list[Manifest], suffix: str) -> list[dict[str, object]]:
    spec = named(manifests, "Deployment", suffix)["spec"]["template"]["spec"]
    containers: list[dict[str, object]] = spec["containers"]
    return containers


def test_remote_logging_reaches_every_service_and_worker_and_the_secret_only_the_services(
    render: Render, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(sets=[*REMOTE, "logs.persistence.enabled=false"])
    logging = tomllib.loads(toml_of(manifests))["logging"]
    assert logging["remote_base_log_folder"] == "s3://tw-logs/prod"
    assert logging["remote_log_conn_id"] == "logs_s3" and logging["delete_local_logs"] is True
    for suffix in SERVICES:
        (container,) = [c for c in _containers(manifests, suffix) if c["name"] != "git-sync"]
        env = {e["name"]: e for e in container["env"]}  # type: ignore[attr-defined]
        assert env["TRADEWIND_CONN_LOGS_S3"]["valueFrom"] == {
            "secretKeyRef": {"name": "logs-s3-connection", "key": "connection"}
        }, suffix
        settings = load_settings_as(container_env(manifests, container), toml_of(manifests), tmp_path / suffix,
                                    monkeypatch)  # fmt: skip
        assert settings.logging.remote_base_log_folder == "s3://tw-logs/prod", suffix
        assert settings.logging.remote_log_conn_id == "logs_s3", suffix
    # Worker pods read the same tradewind.toml, and never the connection's Secret.
    worker = worker_pod_template(manifests)
    base = worker["spec"]["containers"][0]
    assert any(m["name"] == "config" for m in base["volumeMounts"])
    assert not [e for e in base.get("env", []) if e["name"].startswith("TRADEWIND_CONN_")]
    assert "logs-s3-connection" not in str(worker)


def test_without_the_logs_claim_no_pod_mounts_a_logs_volume_claim(render: Render) -> None:
    manifests = render(sets=[*REMOTE, "logs.persistence.enabled=false"])
    claims = [m["metadata"]["name"] for m in by_kind(manifests, "PersistentVolumeClaim")]
    assert not [c for c in claims if c.endswith("-logs")]
    for owner, spec in pod_specs(manifests):
        logs_volumes = [v for v in spec.get("volumes", []) if v["name"] == "tradewind-logs"]
        assert all("persistentVolumeClaim" not in v for v in logs_volumes), owner
    assert "logs_volume_claim" not in toml_of(manifests)


def test_with_the_logs_claim_every_pod_mounts_it(render: Render) -> None:
    manifests = render(sets=REMOTE)
    named(manifests, "PersistentVolumeClaim", "-logs")
    for owner, spec in pod_specs(manifests):
        logs_volumes = [v for v in spec.get("volumes", []) if v["name"] == "tradewind-logs"]
        for volume in logs_volumes:
            assert volume["persistentVolumeClaim"]["claimName"] == "tw-tradewind-logs", owner
    assert 'logs_volume_claim = "tw-tradewind-logs"' in toml_of(manifests)


def test_no_remote_logging_by_default(render: Render) -> None:
    manifests = render()
    assert "remote_base_log_folder" not in toml_of(manifests)
    for suffix in SERVICES:
        for container in _containers(manifests, suffix):
            assert not [e for e in container.get("env", []) if e["name"].startswith("TRADEWIND_CONN_")]  # type: ignore[attr-defined]


def test_the_webserver_reads_running_pods_only_when_asked_and_only_read_only(render: Render) -> None:
    assert not [m for m in by_kind(render(), "Role") if m["metadata"]["name"].endswith("-pod-log-reader")]
    manifests = render(sets=["logs.readRunningPods=true"])
    role = named(manifests, "Role", "-pod-log-reader")
    granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    assert granted == {("pods", "get"), ("pods", "list"), ("pods/log", "get")}
    binding = named(manifests, "RoleBinding", "-pod-log-reader")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "tw-tradewind-webserver", "namespace": "data"}
    ]
    webserver = named(manifests, "Deployment", "-webserver")["spec"]["template"]["spec"]
    assert webserver["automountServiceAccountToken"] is True


@pytest.mark.parametrize(
    ("key", "instead"),
    [
        ("remote_base_log_folder=s3://x/y", "logs.remote.baseLogFolder"),
        ("remote_log_conn_id=c", "logs.remote.connId"),
        ("delete_local_logs=true", "logs.remote.deleteLocalLogs"),
    ],
)
def test_the_remote_logging_settings_are_set_through_the_logs_values(
    helm: Path, key: str, instead: str
) -> None:
    result = helm_template(helm, sets=[f"config.logging.{key}"])
    assert result.returncode != 0 and instead in result.stderr, result.stderr
