"""HttpHook: requests to one HTTP service whose base URL, credentials and default headers come from a connection.

Airflow's ``HttpHook`` on ``requests``; this one is on httpx, so ``run()`` returns an ``httpx.Response`` (``.json()``,
``.text``, ``.content``, ``.status_code``, ``.headers`` read the same; ``.ok`` and ``.reason`` are
``.is_success`` and ``.reason_phrase``) and ``get_conn()`` an ``httpx.Client``. A 4xx/5xx answer raises
``ExternalSystemError`` whose message starts with ``"<status>:<reason>"`` as Airflow's, then names the method,
the URL (without credentials or query) and the connection id.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import tenacity

from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError
from tradewind.sdk.hooks.base import BaseHook

#: Keys of a connection's extra that configure requests instead of being sent as headers (as in Airflow).
REQUEST_OPTION_KEYS = (
    "stream", "cert", "proxies", "proxy", "timeout", "verify", "verify_ssl", "allow_redirects",
    "max_redirects", "trust_env", "check_response", "srv_lookup",
)  # fmt: skip
#: Seconds a request may take when neither the connection nor ``extra_options`` say (requests waits forever).
DEFAULT_TIMEOUT = 60.0
#: How much of an error answer's body goes to the task log.
LOGGED_BODY_CHARS = 2000


def url_from_endpoint(base_url: str | None, endpoint: str | None) -> str:
    """``base_url`` and ``endpoint`` joined by exactly one ``/`` when both are given."""
    if base_url and not base_url.endswith("/") and endpoint and not endpoint.startswith("/"):
        return f"{base_url}/{endpoint}"
    return (base_url or "") + (endpoint or "")


def display_url(url: str | httpx.URL) -> str:
    """``url`` without user info, query or fragment: safe for messages and logs."""
    parts = urlsplit(str(url))
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def split_extra(
    connection: Connection, extra_options: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, Any]]:
    """The connection extra's headers, and the request options: the extra's, overridden by ``extra_options``."""
    headers: dict[str, str] = {}
    options: dict[str, Any] = {}
    for key, value in connection.extra_dejson.items():
        if key in REQUEST_OPTION_KEYS:
            options[key] = value
        elif isinstance(value, str | int | float | bool):
            headers[key] = str(value)
        else:
            raise ConnectionFieldError(
                "an HTTP connection's extra holds headers (text values) and request options "
                f"{list(REQUEST_OPTION_KEYS)}; this value is neither",
                conn_id=connection.conn_id,
                field=f"extra.{key}",
            )
    options.update(extra_options)
    return headers, options


def basic_auth_for(auth_type: Any) -> Callable[..., Any]:
    """An httpx auth class for ``auth_type``: requests' own basic/digest classes map onto httpx's."""
    module = getattr(auth_type, "__module__", "") or ""
    if module.startswith("requests.") or module.startswith("aiohttp."):
        name = getattr(auth_type, "__name__", "")
        return httpx.DigestAuth if "Digest" in name else httpx.BasicAuth
    return auth_type


def keep_alive_options(idle: int, count: int, interval: int) -> list[tuple[int, int, int]]:
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPCNT", count), ("TCP_KEEPINTVL", interval)):
        if hasattr(socket, name):  # not every platform has all three
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    return options


class HttpHook(BaseHook):
    """``HttpHook(method="GET", http_conn_id="my_api").run("v1/items", data={"page": 2})``.

    The base URL is ``<schema or http>://<host>[:<port>]`` (a host holding ``://`` is used as is); login and
    password authenticate with HTTP basic auth unless ``auth_type`` names another (an httpx auth class, or
    requests' ``HTTPBasicAuth`` / ``HTTPDigestAuth``, mapped to httpx's); the connection extra's text values
    are default headers, its ``timeout``, ``verify``, ``proxies`` ... keys request options.
    """

    conn_name_attr = "http_conn_id"
    default_conn_name = "http_default"
    conn_type = "http"
    hook_name = "HTTP"
    default_host: ClassVar[str] = ""
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        method: str = "POST",
        http_conn_id: str = default_conn_name,
        auth_type: Any = None,
        tcp_keep_alive: bool = True,
        tcp_keep_alive_idle: int = 120,
        tcp_keep_alive_count: int = 20,
        tcp_keep_alive_interval: int = 30,
        adapter: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.http_conn_id = http_conn_id
        self.method = method.upper()
        self.base_url = ""
        self.auth_type = auth_type
        self.adapter = adapter
        self.socket_options = (
            keep_alive_options(tcp_keep_alive_idle, tcp_keep_alive_count, tcp_keep_alive_interval)
            if tcp_keep_alive
            else None
        )
        self.merged_extra: dict[str, Any] = {}
        self._retry_obj: tenacity.Retrying | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "relabeling": {"schema": "Scheme", "extra": "Headers and request options (JSON)"},
            "placeholders": {
                "host": "api.example.com (or https://api.example.com/base)",
                "schema": "https",
                "extra": '{"X-Team": "data", "timeout": 30}',
            },
        }

    # -- the client -----------------------------------------------------------------------------------------
    def get_conn(
        self, headers: Mapping[str, Any] | None = None, extra_options: Mapping[str, Any] | None = None
    ) -> httpx.Client:
        """An ``httpx.Client`` for the connection: base URL, auth, headers and options set (close it after)."""
        connection = self.get_connection(self.http_conn_id)
        self.base_url = self._base_url(connection)
        conn_headers, self.merged_extra = split_extra(connection, extra_options or {})
        options = self.merged_extra
        verify = options.get("verify", options.get("verify_ssl", True))
        cert = options.get("cert")
        trust_env = bool(options.get("trust_env", True))
        transport = self.adapter or httpx.HTTPTransport(
            verify=verify, cert=cert, trust_env=trust_env, socket_options=self.socket_options
        )
        return httpx.Client(
            auth=self._auth(connection),
            headers={
                **conn_headers,
                **self.default_headers,
                **{k: str(v) for k, v in (headers or {}).items()},
            },
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            mounts=self._proxy_mounts(options, verify, cert),
            timeout=options.get("timeout", DEFAULT_TIMEOUT),
            follow_redirects=bool(options.get("allow_redirects", True)),
            max_redirects=int(options.get("max_redirects", 30)),
            transport=transport,
        )

    def _base_url(self, connection: Connection) -> str:
        host = connection.host or self.default_host
        # A connection written as an https:// URI has conn_type "https" and no schema: it means https.
        schema = connection.schema or ("https" if connection.conn_type == "https" else "http")
        base_url = host if "://" in host else f"{schema}://{host}"
        if connection.port:
            base_url = f"{base_url}:{connection.port}"
        return base_url

    def _auth(self, connection: Connection) -> Any:
        auth_class: Callable[..., Any] = (
            basic_auth_for(self.auth_type) if self.auth_type is not None else httpx.BasicAuth
        )
        if connection.login:
            return auth_class(connection.login, connection.password or "")
        if self.auth_type is not None:
            return auth_class()
        return None

    def _proxy_mounts(
        self, options: Mapping[str, Any], verify: Any, cert: Any
    ) -> dict[str, httpx.BaseTransport]:
        proxies = options.get("proxies", options.get("proxy"))
        if not proxies:
            return {}
        if isinstance(proxies, str):
            proxies = {"all": proxies}
        return {
            f"{scheme}://": httpx.HTTPTransport(proxy=url, verify=verify, cert=cert)
            for scheme, url in dict(proxies).items()
        }

    def url_from_endpoint(self, endpoint: str | None) -> str:
        if not self.base_url:
            self.base_url = self._base_url(self.get_connection(self.http_conn_id))
        return url_from_endpoint(self.base_url, endpoint)

    # -- requests -------------------------------------------------------------------------------------------
    def run(
        self,
        endpoint: str | None = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        headers: Mapping[str, Any] | None = None,
        extra_options: Mapping[str, Any] | None = None,
        **request_kwargs: Any,
    ) -> httpx.Response:
        """Send one request with the hook's method: for GET ``data`` is the query, for HEAD it is dropped, for
        other methods it is the body (a mapping form-encoded, text or bytes as is). ``request_kwargs`` go to
        ``httpx.Client.build_request`` (``json=``, ``files=``, ``params=`` ...)."""
        client = self.get_conn(headers, extra_options)
        url = url_from_endpoint(self.base_url, endpoint)
        if self.method == "GET":
            request_kwargs.setdefault("params", data or None)
        elif self.method != "HEAD" and data:
            request_kwargs["content" if isinstance(data, str | bytes) else "data"] = data
        stream = bool(self.merged_extra.get("stream", False))
        try:
            request = client.build_request(self.method, url, **request_kwargs)
            self.log.debug("Sending %s to %s", self.method, display_url(url))
            return self.run_and_check(client, request, self.merged_extra)
        finally:
            if not stream:  # a streamed answer still needs the client's connection until it is read
                client.close()

    def run_and_check(
        self, session: httpx.Client, prepped_request: httpx.Request, extra_options: Mapping[str, Any]
    ) -> httpx.Response:
        """Send ``prepped_request``; check the status unless ``extra_options["check_response"]`` is false."""
        try:
            response = session.send(prepped_request, stream=bool(extra_options.get("stream", False)))
        except httpx.TransportError as exc:
            self.log.warning("%s; a retry (run_with_advanced_retry) may try again", type(exc).__name__)
            raise ExternalSystemError(
                f"{prepped_request.method} {display_url(prepped_request.url)} failed: {type(exc).__name__}: "
                f"{exc} (connection {self.http_conn_id!r})",
                conn_id=self.http_conn_id,
            ) from exc
        if extra_options.get("check_response", True):
            self.check_response(response)
        return response

    def check_response(self, response: httpx.Response) -> None:
        """Raise ``ExternalSystemError`` ``"<status>:<reason> ..."`` for a 4xx or 5xx answer."""
        if not response.is_error:
            return
        request = response.request
        reason = response.reason_phrase
        self.log.error("HTTP error: %s %s", response.status_code, reason)
        with suppress(httpx.ResponseNotRead):  # a streamed answer's body is the caller's to read
            self.log.error(response.text[:LOGGED_BODY_CHARS])
        raise ExternalSystemError(
            f"{response.status_code}:{reason} from {request.method} {display_url(request.url)} "
            f"(connection {self.http_conn_id!r})",
            conn_id=self.http_conn_id,
            status=response.status_code,
        )

    def run_with_advanced_retry(
        self, _retry_args: dict[str, Any], *args: Any, **kwargs: Any
    ) -> httpx.Response:
        """``run(*args, **kwargs)`` retried by ``tenacity.Retrying(**_retry_args)``, e.g.
        ``{"stop": tenacity.stop_after_attempt(3), "retry": tenacity.retry_if_exception_type(ExternalSystemError)}``."""
        self._retry_obj = tenacity.Retrying(**_retry_args)
        return self._retry_obj(self.run, *args, **kwargs)

    def test_connection(self) -> tuple[bool, str]:
        """One request with the hook's method to the base URL, as Airflow does."""
        try:
            self.run()
        except Exception as exc:
            return False, str(exc)
        return True, "Connection successfully tested"
