"""The official client, configured from settings (in-cluster service account, or kubeconfig and context),
and how its errors are classified: retry now, retry after a while, or give up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, ApiException, Configuration, CoreV1Api

from tradewind.config.settings import KubernetesSettings
from tradewind.sdk.errors import ConfigError


def make_core_api(settings: KubernetesSettings, *, pool_size: int = 16) -> CoreV1Api:
    """A CoreV1Api of its own (no process-wide default configuration is touched)."""
    configuration = Configuration()
    try:
        if settings.in_cluster:
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            kube_config.load_kube_config(
                config_file=str(settings.config_file) if settings.config_file else None,
                context=settings.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (kube_config.ConfigException, OSError) as exc:
        where = "the in-cluster service account" if settings.in_cluster else \
            f"kubeconfig {settings.config_file or '~/.kube/config'} (context {settings.context or 'current'})"
        key = "kubernetes.in_cluster" if settings.in_cluster else "kubernetes.config_file"
        raise ConfigError(f"cannot configure the Kubernetes client from {where}: {exc}", key=key) from None
    configuration.connection_pool_maxsize = pool_size
    # A kept-alive connection the server has just closed fails a request before it is answered; trying
    # again on a fresh connection is safe for every call we make (a repeated create finds its own pod
    # through 409, deletes carry a uid precondition). Anything else is left to our own backoff loops.
    configuration.retries = urllib3.Retry(
        total=3, connect=3, read=2, status=0, other=0, redirect=0, allowed_methods=None, backoff_factor=0.1,
        raise_on_status=False,
    )
    return CoreV1Api(ApiClient(configuration))


#: Network-level failures: the API server may be fine in a moment.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)
#: Everything a call to the API server may raise that is about the server or the network, not our code.
API_ERRORS: tuple[type[BaseException], ...] = (ApiException, *TRANSIENT_ERRORS)


@dataclass(frozen=True, slots=True)
class ApiFailure:
    status: int
    reason: str
    message: str
    retry_after: float | None

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}" if self.status else self.message

    @property
    def is_quota(self) -> bool:
        return self.status == 403 and "exceeded quota" in self.message

    @property
    def is_throttled(self) -> bool:
        return self.status == 429

    @property
    def is_server_error(self) -> bool:
        return self.status >= 500 or self.status == 0


def describe(exc: BaseException) -> ApiFailure:
    if not isinstance(exc, ApiException):
        return ApiFailure(0, type(exc).__name__, str(exc) or type(exc).__name__, None)
    body = _status_body(exc.body)
    message = str(body.get("message") or exc.reason or "")
    retry_after = _retry_after(exc, body)
    return ApiFailure(int(exc.status or 0), str(body.get("reason") or exc.reason or ""), message, retry_after)


def _status_body(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str) and raw:
        try:
            doc = json.loads(raw)
        except ValueError:
            return {"message": raw[:500]}
        return doc if isinstance(doc, dict) else {}
    return {}


def _retry_after(exc: ApiException, body: dict[str, Any]) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value is None:
        value = (body.get("details") or {}).get("retryAfterSeconds")
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None

