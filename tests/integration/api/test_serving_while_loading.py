"""The webserver answers as soon as it listens: /health and the login page at once, and every other request
made while its routes are still loading gets the answer the complete app gives (it waits, never a 404)."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.api.conftest import DAG_ID, PASSWORDS, Site
from tradewind.api.server import _Server, build_server
from tradewind.cli.main import EXIT_USAGE, main

#: (method, path, basic-auth user or None): a page, both REST APIs, a POST, a route that does not exist.
REQUESTS = [
    ("GET", "/health", None),
    ("GET", "/login", None),
    ("GET", f"/api/v1/dags/{DAG_ID}", "viewer"),
    ("GET", "/api/v2/dags", "viewer"),
    ("GET", "/api/v1/dags", None),
    ("GET", f"/dags/{DAG_ID}", "viewer"),
    ("POST", "/login", None),
    ("GET", "/no/such/page", None),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(site: Site) -> Iterator[tuple[str, _Server]]:
    port = _free_port()
    ready = threading.Event()
    server = build_server(site.settings, "127.0.0.1", port, ready=ready)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(timeout=60)
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive()


def _answer(client: httpx.Client, method: str, path: str, user: str | None) -> tuple[int, str]:
    auth = (user, PASSWORDS[user]) if user is not None else None
    data = {"username": "nobody", "password": "wrong-password"} if method == "POST" else None
    response = client.request(method, path, auth=auth, data=data, headers={"accept": "application/json"})
    return response.status_code, response.headers.get("content-type", "").split(";")[0]


def test_requests_made_while_routes_load_get_the_complete_apps_answers(
    site: Site, served: tuple[str, _Server]
) -> None:
    base, server = served
    # Sent at once, in parallel, right after the server said it listens.
    with (
        httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client,
        ThreadPoolExecutor(len(REQUESTS)) as pool,
    ):
        early = list(pool.map(lambda r: _answer(client, *r), REQUESTS))
    assert server.loading.loaded.is_set()
    complete = site.client()
    for (method, path, user), (status, content_type) in zip(REQUESTS, early, strict=True):
        auth = (user, PASSWORDS[user]) if user is not None else None
        data = {"username": "nobody", "password": "wrong-password"} if method == "POST" else None
        expected = complete.request(
            method, path, auth=auth, data=data, headers={"accept": "application/json"}, follow_redirects=False
        )
        assert (status, content_type) == (
            expected.status_code,
            expected.headers.get("content-type", "").split(";")[0],
        ), (method, path)
    assert early[0][0] == 200 and early[2][0] == 200 and early[7][0] == 404


@pytest.mark.parametrize(
    "command", [["webserver"], ["standalone"], ["standalone", "--no-webserver"]], ids=" ".join
)
def test_a_server_with_an_invalid_setting_stops_and_names_it(
    command: list[str], tw_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setting only the routes or the scheduler read (the secrets backend's arguments) still fails the
    start with the usage exit code and the key, though the webserver already listened."""
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "false")
    monkeypatch.setenv("TRADEWIND_ADMIN_PASSWORD", "admin-password-1")
    assert main(["db", "migrate"]) == 0
    monkeypatch.setenv("TRADEWIND__SECRETS__BACKEND", "tradewind.secrets.environment.EnvironmentVariablesBackend")
    monkeypatch.setenv("TRADEWIND__SECRETS__BACKEND_KWARGS", "not json")
    port_args = [] if "--no-webserver" in command else ["--port", str(_free_port())]
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        assert main([*command, *port_args]) == EXIT_USAGE
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert "backend_kwargs" in capsys.readouterr().err
