"""The runner's HTTP connections to the execution API, against a real HTTP server on a loopback port."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tradewind.runner.api_transport import ApiTransport, TransportFailure


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: Whether to close each connection after answering, without saying so (a server's idle timeout).
    drop_after_answer = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, bytes]] = []
        self.connections = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path, body))
        payload = json.dumps({"path": self.path, "auth": self.headers.get("Authorization")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        if self.server.drop_after_answer:
            self.close_connection = True

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/execution"


def test_calls_share_one_kept_alive_connection(server: _Server) -> None:
    transport = ApiTransport(_base(server))
    headers = {"Authorization": "Bearer t1"}
    first = transport.request("POST", "/try/claim", body=b'{"pid":1}', headers=headers)
    second = transport.request("GET", "/xcoms", params={"key": "a b", "map_index": -1}, headers=headers)
    transport.close()
    assert first.status == 200 and first.json() == {"path": "/execution/try/claim", "auth": "Bearer t1"}
    assert second.json()["path"] == "/execution/xcoms?key=a%20b&map_index=-1"
    assert server.seen[0] == ("POST", "/execution/try/claim", b'{"pid":1}')
    assert server.connections == 1


def test_a_connection_the_server_dropped_while_idle_is_replaced_and_the_call_made_once(
    server: _Server,
) -> None:
    server.drop_after_answer = True
    transport = ApiTransport(_base(server))
    answers = [transport.request("POST", f"/call/{i}", body=b"{}", headers={}) for i in range(3)]
    transport.close()
    assert [a.status for a in answers] == [200, 200, 200]
    assert [path for _method, path, _body in server.seen] == [f"/execution/call/{i}" for i in range(3)]


def test_no_server_is_a_transport_failure() -> None:
    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    transport = ApiTransport(f"http://127.0.0.1:{port}/execution")
    with pytest.raises(TransportFailure, match="ConnectionRefusedError"):
        transport.request("POST", "/try/claim", body=b"{}", headers={})
