"""HttpHook against a real local HTTP service: base URL, auth and headers from the connection, query and body,
status checks that name the URL and the connection (never the password), retries, request options."""

from __future__ import annotations

import json
import socket
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import tenacity

from tests.integration.providers.http.service import PASSWORD, USER
from tradewind.providers.http.hooks.http import HttpHook
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError


def test_base_url_follows_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        '{"conn_type": "http", "host": "api.example.com", "schema": "https", "port": 8443}': "https://api.example.com:8443",
        '{"conn_type": "http", "host": "api.example.com"}': "http://api.example.com",
        '{"conn_type": "http", "host": "https://api.example.com/v2"}': "https://api.example.com/v2",
    }
    for text, expected in cases.items():
        monkeypatch.setenv("TRADEWIND_CONN_SOME_API", text)
        hook = HttpHook(http_conn_id="some_api")
        assert hook.url_from_endpoint("items") == f"{expected}/items"
        assert hook.url_from_endpoint("/items") == f"{expected}/items"


def test_get_sends_data_as_query_with_basic_auth_and_connection_headers(base_url: str) -> None:
    hook = HttpHook(method="GET", http_conn_id="api")
    response = hook.run("echo", data={"day": "2024-01-01", "n": 3}, headers={"X-Request": "r1"})
    assert isinstance(response, httpx.Response) and response.status_code == 200
    seen = response.json()
    assert seen["method"] == "GET" and seen["path"] == "/echo"
    assert seen["query"] == {"day": "2024-01-01", "n": "3"}
    assert seen["user"] == USER
    assert seen["headers"]["x-team"] == "data-eng"  # from the connection's extra
    assert seen["headers"]["x-request"] == "r1"
    assert "timeout" not in seen["headers"]  # a request option, not a header
    assert seen["body"] == ""


def test_post_sends_data_as_body(base_url: str) -> None:
    hook = HttpHook(http_conn_id="api")
    assert hook.method == "POST"
    form = hook.run("echo", data={"a": "1", "b": "two"}).json()
    assert form["method"] == "POST" and form["body"] == "a=1&b=two" and form["query"] == {}
    raw = hook.run("/echo", data='{"raw": true}', headers={"Content-Type": "application/json"}).json()
    assert raw["body"] == '{"raw": true}' and raw["headers"]["content-type"] == "application/json"
    sent = hook.run("echo", json={"k": [1, 2]}).json()
    assert json.loads(sent["body"]) == {"k": [1, 2]}


def test_error_status_raises_naming_status_url_and_connection_never_the_password(base_url: str) -> None:
    hook = HttpHook(method="GET", http_conn_id="api")
    with pytest.raises(ExternalSystemError) as raised:
        hook.run("status/503", data={"token": "query-secret"})
    message = str(raised.value)
    assert message.startswith("503:Service Unavailable")
    assert f"GET {base_url}/status/503" in message and "'api'" in message
    assert PASSWORD not in message and "query-secret" not in message
    assert raised.value.status == 503 and raised.value.conn_id == "api"
    # check_response off: the answer comes back as it is.
    answer = hook.run("status/404", extra_options={"check_response": False})
    assert answer.status_code == 404 and answer.text == "answered 404"


def test_wrong_password_is_a_401_that_does_not_show_the_password(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert HttpHook(method="GET", http_conn_id="api").run("secure").text == "welcome"
    wrong = Connection("bad", conn_type="http", host=base_url, login=USER, password="not-the-password-xyz")
    monkeypatch.setenv("TRADEWIND_CONN_BAD", wrong.get_uri())
    with pytest.raises(
        ExternalSystemError, match=r"^401:Unauthorized from GET .*/secure \(connection 'bad'\)"
    ) as raised:
        HttpHook(method="GET", http_conn_id="bad").run("secure")
    assert "not-the-password-xyz" not in str(raised.value)


def test_advanced_retry_gets_through_a_service_that_fails_twice(
    base_url: str, http_service: tuple[str, Counter[str]]
) -> None:
    name = uuid.uuid4().hex
    hook = HttpHook(method="GET", http_conn_id="api")
    retry_args = {
        "stop": tenacity.stop_after_attempt(3),
        "wait": tenacity.wait_none(),
        "retry": tenacity.retry_if_exception_type(ExternalSystemError),
    }
    response = hook.run_with_advanced_retry(retry_args, f"flaky/{name}")
    assert response.json() == {"attempt": 3}
    assert http_service[1][name] == 3
    # Without enough attempts the last error is raised (tenacity's reraise).
    other = uuid.uuid4().hex
    with pytest.raises(ExternalSystemError, match=r"^503:"):
        hook.run_with_advanced_retry(
            {**retry_args, "stop": tenacity.stop_after_attempt(2), "reraise": True}, f"flaky/{other}"
        )
    assert http_service[1][other] == 2


def test_request_options_from_the_call_and_the_connection(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = HttpHook(method="GET", http_conn_id="api")
    assert hook.run("redirect").json()["path"] == "/echo"  # redirects are followed, as requests does
    kept = hook.run("redirect", extra_options={"allow_redirects": False})
    assert kept.status_code == 302 and kept.headers["location"] == "/echo"
    monkeypatch.setenv(
        "TRADEWIND_CONN_NO_CHECK",
        json.dumps({"conn_type": "http", "host": base_url, "extra": {"check_response": False}}),
    )
    assert HttpHook(method="GET", http_conn_id="no_check").run("status/500").status_code == 500


def test_an_extra_value_that_is_neither_header_nor_option_names_the_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "TRADEWIND_CONN_ODD", json.dumps({"conn_type": "http", "host": "h", "extra": {"nested": {"a": 1}}})
    )
    with pytest.raises(ConnectionFieldError, match=r"connection 'odd', field 'extra\.nested'"):
        HttpHook(http_conn_id="odd").run("x")


def test_test_connection_and_the_hook_found_by_conn_type(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_HEALTH", json.dumps({"conn_type": "http", "host": f"{base_url}/echo"}))
    hook = Connection.get("health").get_hook(hook_params={"method": "GET"})
    assert isinstance(hook, HttpHook) and hook.http_conn_id == "health"
    assert hook.test_connection() == (True, "Connection successfully tested")
    assert HttpHook(http_conn_id="health", method="GET").run().json()["path"] == "/echo"
    with _closed_port() as port:
        monkeypatch.setenv(
            "TRADEWIND_CONN_DOWN", json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": port})
        )
        ok, reason = HttpHook(method="GET", http_conn_id="down").test_connection()
    assert not ok and "ConnectError" in reason and "'down'" in reason


@contextmanager
def _closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 held by a socket that does not listen: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
