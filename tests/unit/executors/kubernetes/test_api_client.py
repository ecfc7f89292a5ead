"""Client configuration errors name the setting; API errors are classified for retrying."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes.client import ApiException

from tradewind.config.settings import KubernetesSettings
from tradewind.executors.kubernetes.api_client import describe, make_core_api
from tradewind.sdk.errors import ConfigError


def test_missing_kubeconfig_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_core_api(KubernetesSettings(config_file=tmp_path / "absent"))
    assert info.value.key == "kubernetes.config_file" and "absent" in str(info.value)


def test_unknown_context_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    path.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    with pytest.raises(ConfigError) as info:
        make_core_api(KubernetesSettings(config_file=path, context="nope"))
    assert "nope" in str(info.value)


def test_in_cluster_outside_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError) as info:
        make_core_api(KubernetesSettings(in_cluster=True))
    assert info.value.key == "kubernetes.in_cluster"


def _api_exception(status: int, body: str, headers: dict[str, str] | None = None) -> ApiException:
    exc = ApiException(status=status, reason="x", body=body)
    exc.headers = headers
    return exc


def test_describe_reads_status_objects() -> None:
    throttled = describe(_api_exception(429, '{"reason":"TooManyRequests","message":"slow down",'
                                             '"details":{"retryAfterSeconds":3}}', {"Retry-After": "7"}))
    assert throttled.is_throttled and throttled.retry_after == 7.0
    assert describe(_api_exception(429, '{"details":{"retryAfterSeconds":3}}')).retry_after == 3.0
    quota = describe(_api_exception(403, '{"message":"pods \\"p\\" is forbidden: exceeded quota: q"}'))
    assert quota.is_quota and not describe(_api_exception(403, '{"message":"forbidden"}')).is_quota
    assert describe(_api_exception(503, "not json")).is_server_error
    assert str(describe(ConnectionResetError("reset"))) == "reset"
