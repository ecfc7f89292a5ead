"""WebhookNotifier: a task or DAG callback that posts JSON to an incoming webhook (Slack, Microsoft Teams,
Mattermost, Google Chat, or any HTTP endpoint), with httpx.

The default body is ``{"text": "<one-line summary>"}``, which Slack's and Teams' incoming webhooks (and those
that copy them) accept as it is. Webhook URLs usually hold their secret in the path: give it through a
connection (``http_conn_id``, host with its scheme, the path as ``endpoint`` or in the host), and it is never
logged; messages name the host only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import httpx

from tradewind.providers.smtp.templates import DEFAULT_SUBJECT
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError
from tradewind.sdk.notifier import BaseNotifier

#: The default body: a Slack/Teams-compatible ``text`` with the same one-line summary as an alert mail's subject.
DEFAULT_JSON_BODY: dict[str, Any] = {
    "text": DEFAULT_SUBJECT
    + "{% if exception is defined and exception %}: {{ exception | string | truncate(500) }}{% endif %}"
}
DEFAULT_TIMEOUT = 10.0
#: Keys of an HTTP connection's extra that are request options, not headers (as HttpHook reads them).
REQUEST_OPTION_KEYS = frozenset(
    {"timeout", "verify", "verify_ssl", "cert", "proxies", "proxy", "allow_redirects", "max_redirects",
     "trust_env", "check_response", "stream", "srv_lookup"}
)  # fmt: skip


class WebhookNotifier(BaseNotifier):
    """Post ``json_body`` (a dict or list whose strings are templates, rendered with the callback's context)
    to ``url``, or to the connection ``http_conn_id`` plus ``endpoint``. A 2xx answer is success; anything
    else (or no answer within ``timeout`` seconds) is logged as the notification's failure."""

    template_fields = ("url", "http_conn_id", "endpoint", "json_body", "headers")

    def __init__(
        self,
        url: str | None = None,
        *,
        http_conn_id: str | None = None,
        endpoint: str = "",
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not url and not http_conn_id:
            raise ValueError("WebhookNotifier needs url= or http_conn_id=")
        self.url = url
        self.http_conn_id = http_conn_id
        self.endpoint = endpoint
        self.json_body = DEFAULT_JSON_BODY if json_body is None else json_body
        self._summary_body = json_body is None  # its text is squeezed onto one line once rendered
        self.headers = dict(headers or {})
        self.timeout = timeout

    def notify(self, context: Mapping[str, Any]) -> None:
        url, headers, auth = self._target()
        host = urlsplit(url).netloc.rsplit("@", 1)[-1]
        body = _one_line(self.json_body) if self._summary_body else self.json_body
        try:
            with _unlogged_request():
                response = httpx.post(url, json=body, headers=headers, auth=auth, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ExternalSystemError(
                f"webhook on {host}: no answer: {type(exc).__name__}", conn_id=self.http_conn_id
            ) from None
        if not response.is_success:
            raise ExternalSystemError(
                f"webhook on {host} answered {response.status_code} {response.reason_phrase}: {response.text[:200]}",
                conn_id=self.http_conn_id,
                status=response.status_code,
            )
        self.log.info("Posted the notification to the webhook on %s (%d)", host, response.status_code)

    def _target(self) -> tuple[str, dict[str, str], tuple[str, str] | None]:
        if not self.http_conn_id:
            return _joined(self.url or "", self.endpoint), dict(self.headers), None
        conn = Connection.get(self.http_conn_id)
        if not conn.host:
            raise ConnectionFieldError(
                "a webhook connection needs a host", conn_id=conn.conn_id, field="host"
            )
        base = conn.host if "://" in conn.host else f"{conn.schema or 'http'}://{conn.host}"
        if conn.port:
            base += f":{conn.port}"
        headers = {
            k: str(v)
            for k, v in conn.extra_dejson.items()
            if isinstance(v, str | int | float) and k not in REQUEST_OPTION_KEYS
        }
        headers.update(self.headers)
        auth = (conn.login, conn.password) if conn.login and conn.password else None
        return _joined(base, self.endpoint), headers, auth


class _HideWebhookRequests(logging.Filter):
    """httpx logs each request's full URL at INFO: a webhook's URL holds its secret, so not while one posts."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _posting.get()


_posting: ContextVar[bool] = ContextVar("tradewind_webhook_posting", default=False)


@contextmanager
def _unlogged_request() -> Iterator[None]:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _HideWebhookRequests) for f in httpx_log.filters):
        httpx_log.addFilter(_HideWebhookRequests())
    token = _posting.set(True)
    try:
        yield
    finally:
        _posting.reset(token)


def _joined(base: str, endpoint: str) -> str:
    if not endpoint:
        return base
    return base.rstrip("/") + "/" + endpoint.lstrip("/")


def _one_line(body: dict[str, Any]) -> dict[str, Any]:
    return {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in body.items()}
