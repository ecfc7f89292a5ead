"""Login hardening: concurrent guesses cannot outrun the rate limit, unknown usernames cost a password check
too, proxies named in ``forwarded_allow_ips`` (and only those) set the client address and scheme, and run
conf and XCom values with secret-looking keys are masked wherever they are shown."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import argon2
import httpx
import pytest
from starlette.testclient import TestClient

from tests.integration.api.conftest import DAG_ID, PASSWORDS, Site
from tradewind.api.auth.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tradewind.api.server import build_server
from tradewind.store import audit, xcom
from tradewind.store.engine import transaction

TRUSTED_PROXY = ("127.0.0.1", 41000)  # the default forwarded_allow_ips
UNTRUSTED = ("203.0.113.9", 41000)


@pytest.fixture(autouse=True)
def low_login_limit(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer password checks (argon2 is slow on purpose) to reach the limit; set before ``site`` loads it."""
    monkeypatch.setenv("TRADEWIND__WEBSERVER__LOGIN_RATE_LIMIT", "2")


class VerifyCounter:
    """Counts password checks made through argon2 (the real hasher, wrapped)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.calls = 0


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[VerifyCounter]:
    counter = VerifyCounter()
    real = argon2.PasswordHasher.verify

    def counting(self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        with counter._lock:
            counter.calls += 1
        return real(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    yield counter


def client_at(site: Site, address: tuple[str, int]) -> TestClient:
    client = TestClient(site.app, base_url="http://testserver", client=address)
    client.__enter__()
    site.clients.append(client)
    return client


def test_concurrent_wrong_logins_get_no_more_password_checks_than_the_limit(
    site: Site, verifications: VerifyCounter
) -> None:
    limit = site.settings.webserver.login_rate_limit
    assert limit == 2
    client = site.client()

    def attempt(i: int) -> int:
        return client.post("/auth/token", json={"username": "op", "password": f"guess-{i}"}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(attempt, range(40)))

    assert verifications.calls <= limit
    assert statuses.count(401) == verifications.calls
    assert statuses.count(429) == 40 - verifications.calls
    with site.factory() as session:
        assert audit.list_audit(session=session, event="login_failed")[1] == verifications.calls


@pytest.mark.parametrize("username", ["op", "nobody-by-this-name"])
def test_every_way_of_logging_in_checks_one_password_known_user_or_not(
    site: Site, verifications: VerifyCounter, username: str
) -> None:
    # Each from an address of its own, so the rate limit stays out of the way.
    basic = client_at(site, ("192.0.2.1", 41000))
    assert basic.get("/api/v1/dags", auth=(username, "wrong-password")).status_code == 401
    assert verifications.calls == 1
    verifications.reset()
    token = client_at(site, ("192.0.2.2", 41000))
    assert token.post("/auth/token", json={"username": username, "password": "wrong"}).status_code == 401
    assert verifications.calls == 1
    verifications.reset()
    client = client_at(site, ("192.0.2.3", 41000))
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post(
        "/login", data={"username": username, "password": "wrong", "csrf_token": csrf.group(1)}
    )
    assert response.status_code == 401 and "invalid username or password" in response.text
    assert verifications.calls == 1


def _login_through(client: TestClient, headers: dict[str, str]) -> tuple[str, str]:
    """Log in as viewer; the Set-Cookie headers of the login form and of the session."""
    form = client.get("/login", headers=headers)
    form_cookie = form.headers["set-cookie"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    login_cookie = re.search(rf"{LOGIN_CSRF_COOKIE}=([^;]+)", form_cookie)
    assert token is not None and login_cookie is not None
    # Sent by hand: a client holds a Secure cookie back from an http:// URL, as a browser would.
    response = client.post(
        "/login",
        data={"username": "viewer", "password": PASSWORDS["viewer"], "csrf_token": token.group(1)},
        headers={**headers, "cookie": f"{LOGIN_CSRF_COOKIE}={login_cookie.group(1)}"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    return form_cookie, session_cookie


def test_cookies_are_secure_behind_a_trusted_tls_proxy(site: Site) -> None:
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7"}
    form_cookie, session_cookie = _login_through(client_at(site, TRUSTED_PROXY), forwarded)
    assert "secure" in form_cookie.lower() and "secure" in session_cookie.lower()
    with site.factory() as session:
        logins = audit.list_audit(session=session, event="login")[0]
    assert logins[0].extra == {"address": "198.51.100.7"}


def test_forwarded_headers_from_an_untrusted_address_are_ignored(site: Site) -> None:
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7"}
    form_cookie, session_cookie = _login_through(client_at(site, UNTRUSTED), forwarded)
    assert "secure" not in form_cookie.lower() and "secure" not in session_cookie.lower()
    with site.factory() as session:
        logins = audit.list_audit(session=session, event="login")[0]
    assert logins[0].extra == {"address": UNTRUSTED[0]}


def test_the_limit_follows_the_client_behind_the_proxy_not_the_proxy(site: Site) -> None:
    limit = site.settings.webserver.login_rate_limit
    proxy = client_at(site, TRUSTED_PROXY)

    def token_from(address: str, password: str) -> int:
        return proxy.post(
            "/auth/token",
            json={"username": "op", "password": password},
            headers={"x-forwarded-for": address},
        ).status_code

    assert [token_from("198.51.100.1", "guess") for _ in range(limit)] == [401] * limit
    assert token_from("198.51.100.1", PASSWORDS["op"]) == 429
    # The same user from another address behind the same proxy still logs in.
    assert token_from("198.51.100.2", PASSWORDS["op"]) == 201
    # A client that is not a trusted proxy cannot pick its address with the header.
    direct = client_at(site, UNTRUSTED)
    for i in range(limit):
        direct.post(
            "/auth/token",
            json={"username": "op", "password": "guess"},
            headers={"x-forwarded-for": f"10.9.9.{i}"},
        )
    spoofed = direct.post(
        "/auth/token", json={"username": "op", "password": "guess"}, headers={"x-forwarded-for": "10.9.9.99"}
    )
    assert spoofed.status_code == 429


def test_secret_looking_run_conf_and_xcom_values_are_masked_everywhere(site: Site) -> None:
    client = site.client()
    client.auth = ("admin", PASSWORDS["admin"])
    conf = {"db_password": "hunter2-conf", "table": "orders", "nested": [{"api_key": "k3y-in-list"}]}
    created = client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1", "conf": conf})
    assert created.status_code == 200, created.text
    with transaction(site.factory) as session:
        xcom.set_xcom(
            session=session,
            dag_id=DAG_ID,
            run_id="r1",
            task_id="extract",
            value=[{"user": "etl", "userpassword": "hunter2-xcom"}],
        )
        xcom.set_xcom(
            session=session,
            dag_id=DAG_ID,
            run_id="r1",
            task_id="extract",
            key="ssh_key",
            value="BEGIN-KEY-xyz",
        )
    shown = {
        "v1 run": client.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r1"),
        "v1 runs": client.get(f"/api/v1/dags/{DAG_ID}/dagRuns"),
        "v2 run": client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/r1"),
        "v2 runs": client.get(f"/api/v2/dags/{DAG_ID}/dagRuns"),
        "runs page": client.get(f"/dags/{DAG_ID}/runs", headers={"accept": "text/html"}),
        "xcoms": client.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/extract/xcomEntries"),
        "xcom": client.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/extract/xcomEntries/ssh_key"),
        "task page": client.get(f"/dags/{DAG_ID}/runs/r1/tasks/extract", headers={"accept": "text/html"}),
    }
    for where, response in shown.items():
        assert response.status_code == 200, (where, response.text)
        for secret in ("hunter2-conf", "k3y-in-list", "hunter2-xcom", "BEGIN-KEY-xyz"):
            assert secret not in response.text, (where, secret)
    assert shown["v1 run"].json()["conf"] == {
        "db_password": "***",
        "table": "orders",
        "nested": [{"api_key": "***"}],
    }
    assert shown["xcom"].json()["value"] == "***"
    assert "orders" in shown["runs page"].text and "etl" in shown["task page"].text


def test_the_webserver_command_trusts_the_configured_proxies(site: Site) -> None:
    """`tradewind webserver` serves through uvicorn: the setting reaches the app it serves."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = threading.Event()
    server = build_server(site.settings, "127.0.0.1", port, ready=ready)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(timeout=30)
        response = httpx.get(
            f"http://127.0.0.1:{port}/login", headers={"x-forwarded-proto": "https"}, timeout=30
        )
        assert response.status_code == 200
        assert "secure" in response.headers["set-cookie"].lower()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive()
