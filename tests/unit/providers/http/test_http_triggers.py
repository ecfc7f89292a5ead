"""The HTTP triggers against a real local server: one request's answer as the event, an error answer as an
error event, and a URL polled through 404s until it answers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tradewind.providers.http.triggers.http import HttpSensorTrigger, HttpTrigger
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent

HITS: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        HITS.append(self.path)
        if self.path.startswith("/ready") and HITS.count(self.path) < 3:
            self._answer(404, b"not yet")
        elif self.path.startswith("/broken"):
            self._answer(500, b"boom")
        else:
            self._answer(200, b'{"ok": true}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(201, b"got " + self.rfile.read(length))

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    HITS.clear()
    monkeypatch.setenv("TRADEWIND_CONN_PARTNER", f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        yield "partner"
    finally:
        httpd.shutdown()


def first_event(trigger: BaseTrigger) -> TriggerEvent:
    async def run() -> TriggerEvent:
        events = trigger.run()
        try:
            return await asyncio.wait_for(anext(events), 10)  # type: ignore[arg-type]
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    return asyncio.run(run())


def test_http_trigger_fires_with_the_answer_or_an_error(server: str) -> None:
    event = first_event(HttpTrigger(http_conn_id=server, method="POST", endpoint="items", data="x=1"))
    assert event.payload["status"] == "success"
    response = event.payload["response"]
    assert (response["status_code"], response["text"]) == (201, "got x=1")
    failed = first_event(HttpTrigger(http_conn_id=server, method="GET", endpoint="broken"))
    assert failed.payload["status"] == "error" and "500" in failed.payload["message"]
    classpath, kwargs = HttpTrigger(http_conn_id=server, endpoint="items").serialize()
    assert classpath == "tradewind.providers.http.triggers.http.HttpTrigger" and kwargs["endpoint"] == "items"


def test_http_sensor_trigger_polls_through_404s(server: str) -> None:
    assert first_event(
        HttpSensorTrigger(endpoint="ready", http_conn_id=server, poke_interval=0.05)
    ) == TriggerEvent(True)
    assert HITS.count("/ready") == 3
    with pytest.raises(Exception, match="500"):
        first_event(HttpSensorTrigger(endpoint="broken", http_conn_id=server, poke_interval=0.05))
