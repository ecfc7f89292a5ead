"""Logging in and out, CSRF on forms, failed-login rate limiting and auditing, sessions, bearer tokens."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.integration.api.conftest import DAG_ID, Site
from tradewind.actions.accounts import create_token, reset_password
from tradewind.api.auth.sessions import SESSION_COOKIE
from tradewind.core.clock import utcnow
from tradewind.store import api_tokens, audit, dags
from tradewind.store.engine import transaction


def login_form_token(client) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert match is not None
    return match.group(1)


def test_login_sets_a_session_and_logout_ends_it(site: Site) -> None:
    client, csrf = site.login("viewer")
    assert client.get("/api/v1/dags").status_code == 200
    assert client.cookies.get(SESSION_COOKIE)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/api/v1/dags").status_code == 401
    with site.factory() as session:
        events = [e.event for e in audit.list_audit(session=session)[0]]
    assert "login" in events and "logout" in events


def test_wrong_password_is_refused_audited_and_rate_limited(site: Site) -> None:
    client = site.client()
    limit = site.settings.webserver.login_rate_limit
    for _ in range(limit):
        wrong = client.post(
            "/login", data={"username": "op", "password": "guess", "csrf_token": login_form_token(client)}
        )
        assert wrong.status_code == 401 and "invalid username or password" in wrong.text
    blocked = client.post(
        "/login", data={"username": "op", "password": "op-pass-123", "csrf_token": login_form_token(client)}
    )
    assert blocked.status_code == 429 and "too many failed logins" in blocked.text
    assert not client.cookies.get(SESSION_COOKIE)
    with site.factory() as session:
        failures, total = audit.list_audit(session=session, event="login_failed")
    assert total == limit and failures[0].owner == "op"
    assert "guess" not in str(failures[0].extra)
    # Another user from the same address is not locked out.
    other = site.client()
    ok = other.post(
        "/login",
        data={"username": "viewer", "password": "viewer-pass-1", "csrf_token": login_form_token(other)},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_login_without_its_csrf_token_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "op", "password": "op-pass-123", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert not client.cookies.get(SESSION_COOKIE)


def test_login_redirects_only_within_the_site(site: Site) -> None:
    client = site.client()
    response = client.post(
        "/login",
        data={
            "username": "op",
            "password": "op-pass-123",
            "csrf_token": login_form_token(client),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dags"


def test_a_form_post_without_csrf_token_changes_nothing(site: Site) -> None:
    client, _csrf = site.login("op")
    response = client.post(
        f"/dags/{DAG_ID}/pause",
        data={"is_paused": "true"},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "CSRF" in response.text
    api = client.patch(f"/api/v1/dags/{DAG_ID}", json={"is_paused": True})
    assert api.status_code == 403 and "CSRF" in api.json()["detail"]
    with site.factory() as session:
        assert dags.get_dag(session=session, dag_id=DAG_ID).is_paused is False
        assert audit.list_audit(session=session, event="pause")[1] == 0


def test_a_form_post_with_csrf_token_pauses_and_is_audited(site: Site) -> None:
    client, csrf = site.login("op")
    response = client.post(
        f"/dags/{DAG_ID}/pause", data={"is_paused": "true", "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    with site.factory() as session:
        assert dags.get_dag(session=session, dag_id=DAG_ID).is_paused is True
        entries, _ = audit.list_audit(session=session, event="pause")
        assert entries[0].owner == "op" and entries[0].dag_id == DAG_ID


def test_logging_out_ends_the_session_for_every_copy_of_its_cookie(site: Site) -> None:
    client, csrf = site.login("op")
    stolen = site.client()
    stolen.cookies.set(SESSION_COOKIE, client.cookies.get(SESSION_COOKIE) or "")
    assert stolen.get("/api/v1/dags").status_code == 200
    other_browser, _ = site.login("op")  # the same user, logged in elsewhere
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert stolen.get("/api/v1/dags").status_code == 401
    assert stolen.get("/dags", headers={"accept": "text/html"}, follow_redirects=False).status_code in (302, 303)
    assert other_browser.get("/api/v1/dags").status_code == 200, "only the session logged out ends"


def test_sessions_are_kept_server_side_by_hash_and_expired_ones_are_dropped(site: Site) -> None:
    from sqlalchemy import select, update

    from tradewind.store.tables import WebSessionModel

    client, _ = site.login("viewer")
    cookie = client.cookies.get(SESSION_COOKIE) or ""
    with site.factory() as session:
        [row] = session.scalars(select(WebSessionModel)).all()
    assert row.session_hash not in cookie and len(row.session_hash) == 64
    with transaction(site.factory) as session:  # the server-side session runs out before the cookie does
        session.execute(update(WebSessionModel).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/dags").status_code == 401
    site.login("viewer")
    with site.factory() as session:
        assert len(session.scalars(select(WebSessionModel)).all()) == 1, "the expired row went at the next login"


def test_a_tampered_session_cookie_is_anonymous(site: Site) -> None:
    client, _ = site.login("admin")
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    client.cookies.set(SESSION_COOKIE, cookie[:-3] + "abc")
    assert client.get("/api/v1/dags").status_code == 401


def test_resetting_a_password_ends_the_users_sessions(site: Site) -> None:
    client, _ = site.login("viewer")
    assert client.get("/api/v1/dags").status_code == 200
    reset_password(site.factory, username="viewer", password="a-brand-new-pass")
    assert client.get("/api/v1/dags").status_code == 401


def test_bearer_tokens_work_until_they_expire(site: Site) -> None:
    token = create_token(site.factory, username="op", name="ci", expires_days=1)
    client = site.client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/dags", headers=headers).status_code == 200
    assert (
        client.patch(f"/api/v1/dags/{DAG_ID}", json={"is_paused": True}, headers=headers).status_code == 200
    )
    with site.factory() as session:
        rows = api_tokens.list_tokens(session=session)
        assert len(rows) == 1 and rows[0].token_hash != token and token not in rows[0].token_hash
        assert rows[0].last_used_at is not None
    with transaction(site.factory) as session:
        api_tokens.list_tokens(session=session)[0].expires_at = utcnow() - timedelta(seconds=1)
    expired = client.get("/api/v1/dags", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert client.get("/api/v1/dags", headers={"Authorization": "Bearer tw_nonsense"}).status_code == 401
    assert client.get("/api/v1/dags", headers={"Authorization": "Digest abc"}).status_code == 401


def test_basic_auth_with_a_wrong_password_is_refused(site: Site) -> None:
    client = site.client()
    client.auth = ("admin", "wrong-password")
    response = client.get("/api/v1/dags")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_a_token_revoked_from_the_command_line_is_refused_at_once(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    from tradewind.cli.main import main

    token = create_token(site.factory, username="op", name="ci-deploy", expires_days=None)
    client = site.client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/dags", headers=headers).status_code == 200

    assert main(["users", "list-tokens", "--username", "op", "-o", "json"]) == 0
    listed = capsys.readouterr().out
    [row] = json.loads(listed)
    assert (row["username"], row["name"]) == ("op", "ci-deploy") and row["last_used_at"] is not None
    assert token not in listed  # neither the token nor its hash is ever shown
    with site.factory() as session:
        assert api_tokens.list_tokens(session=session)[0].token_hash not in listed

    assert main(["users", "revoke-token", str(row["id"])]) == 0
    assert client.get("/api/v1/dags", headers=headers).status_code == 401
    assert main(["users", "revoke-token", str(row["id"])]) == 1
    assert "no API token with id" in capsys.readouterr().err


def test_logging_a_user_out_everywhere_from_the_command_line(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    from tradewind.cli.main import main

    laptop, _ = site.login("op")
    phone, _ = site.login("op")
    admin, _ = site.login("admin")
    assert main(["users", "logout", "--username", "op"]) == 0
    assert "ended 2 web session(s) of 'op'" in capsys.readouterr().out
    assert laptop.get("/api/v1/dags").status_code == 401
    assert phone.get("/api/v1/dags").status_code == 401
    assert admin.get("/api/v1/dags").status_code == 200
    with site.factory() as session:
        [entry] = audit.list_audit(session=session, event="logout_everywhere")[0]
    assert entry.owner == "op"
    assert main(["users", "logout", "--username", "nobody"]) == 1
