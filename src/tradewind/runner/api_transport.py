"""The runner's HTTP connections to the execution API: standard-library ``http.client`` connections, kept alive
for the try's calls (claim, heartbeats, XComs, finish), at most one per thread calling at the same moment.

Not httpx: a try makes a handful of calls, and httpx's client (its transport and TLS context built per
client, cookie extraction and URL models per call) cost a no-op try more CPU than its task (ADR 0024)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from tradewind.sdk.errors import ConfigError

#: Seconds to open a connection, and to wait for an answer (a finish on a busy database may take a while).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0

_ssl_context: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context per process (building one reads the CA bundle: ~15 ms). A warm parent builds it
    before forking when the API is served over https, so each try starts with it."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


class TransportFailure(Exception):
    """The call did not get an answer: connection refused or reset, timeout, a malformed answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str
    body: bytes
    method: str
    path: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The decoded body; ValueError when it is not JSON."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class ApiTransport:
    """Kept-alive connections to one base URL (``http://host:port/prefix``). Safe to use from several threads:
    each call takes an idle connection or opens one, and gives it back once the answer is read whole."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"the execution API URL is not an http(s) URL: {base_url!r}", key="execution_api.url"
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        headers: dict[str, str],
    ) -> Answer:
        """One call; TransportFailure when no answer came. A kept-alive connection the server closed while it
        was idle is replaced once, at once (the call never reached the server)."""
        target = self._prefix + path
        if params:
            target += "?" + urlencode(params, quote_via=quote)
        conn, reused = self._take()
        try:
            try:
                return self._exchange(conn, method, target, path, body, headers)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if not reused:
                    raise
                conn.close()
                conn = self._open()
                return self._exchange(conn, method, target, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise TransportFailure(f"{type(exc).__name__}: {exc}") from None

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> Answer:
        if conn.sock is None:
            conn.connect()  # with the connect timeout; the answer may take longer
            assert conn.sock is not None
            conn.sock.settimeout(READ_TIMEOUT)
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        answer = Answer(response.status, response.reason, data, method, path)
        if response.will_close:
            conn.close()
        else:
            self._give_back(conn)
        return answer

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _open(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=CONNECT_TIMEOUT, context=shared_ssl_context()
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT)

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
