"""The admin pages (users and roles, API tokens, configuration) and the XCom list: content, roles (403 for
everyone but admins), secrets never on a page, CSRF on every form, each change audited."""

from __future__ import annotations

import re

import pytest

from tests.integration.api.conftest import DAG_ID, NOW, Site
from tradewind.actions.passwords import hash_token
from tradewind.config.settings import Settings
from tradewind.store import audit, dag_runs, users, xcom
from tradewind.store.engine import transaction
from tradewind.store.tables import ApiTokenModel

HTML = {"accept": "text/html"}
ADMIN_PAGES = ("/users", "/roles", "/tokens", "/configuration")


def audit_events(site: Site, event: str) -> list[tuple[str | None, dict[str, object]]]:
    with site.factory() as session:
        rows, _ = audit.list_audit(session=session, limit=100, offset=0, event=event)
        return [(r.owner, dict(r.extra or {})) for r in rows]


@pytest.mark.parametrize("role", ["viewer", "op"])
def test_admin_pages_refuse_other_roles_and_are_not_in_their_menu(site: Site, role: str) -> None:
    client, csrf = site.login(role)
    for page in ADMIN_PAGES:
        assert client.get(page, headers=HTML).status_code == 403, page
    refused = client.post("/users/new", data={"csrf_token": csrf, "username": "eve", "password": "x" * 12})
    assert refused.status_code == 403
    menu = client.get("/dags", headers=HTML).text
    assert 'data-testid="admin-menu"' not in menu and 'href="/users"' not in menu
    assert 'href="/xcoms"' in menu
    assert ('href="/connections"' in menu) is (role == "op")
    with site.factory() as session:
        assert users.find_user(session=session, username="eve") is None


def test_anonymous_callers_are_sent_to_log_in(site: Site) -> None:
    client = site.client()
    for page in (*ADMIN_PAGES, "/xcoms"):
        response = client.get(page, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), page


def test_admin_manages_users_and_reads_roles(site: Site) -> None:
    admin, csrf = site.login("admin")
    menu = admin.get("/dags", headers=HTML).text
    for link in ADMIN_PAGES:
        assert f'href="{link}"' in menu
    listing = admin.get("/users", headers=HTML).text
    for role in ("viewer", "op", "admin"):
        assert f'data-user="{role}"' in listing
    assert "argon2" not in listing  # password hashes never reach a page

    no_csrf = admin.post("/users/new", data={"username": "dora", "role": "op", "password": "dora-pass-1"})
    assert no_csrf.status_code == 403
    created = admin.post(
        "/users/new",
        data={"csrf_token": csrf, "username": "dora", "role": "op", "password": "dora-pass-1"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert 'data-user="dora"' in admin.get("/users", headers=HTML).text
    short = admin.post(
        "/users/new", data={"csrf_token": csrf, "username": "ed", "password": "short"}, headers=HTML
    )
    assert short.status_code == 422 and "at least" in short.text

    assert admin.post("/users/dora/role", data={"role": "viewer"}).status_code == 403
    admin.post("/users/dora/role", data={"csrf_token": csrf, "role": "viewer"})
    with site.factory() as session:
        assert users.get_user(session=session, username="dora").role == "viewer"
    bad_role = admin.post("/users/dora/role", data={"csrf_token": csrf, "role": "root"}, headers=HTML)
    assert bad_role.status_code == 422

    own = admin.post("/users/admin/delete", data={"csrf_token": csrf}, headers=HTML)
    assert own.status_code == 409 and "your own account" in own.text
    assert admin.post("/users/admin/role", data={"csrf_token": csrf, "role": "viewer"}).status_code == 409
    admin.post("/users/dora/delete", data={"csrf_token": csrf})
    with site.factory() as session:
        assert users.find_user(session=session, username="dora") is None
        assert users.get_user(session=session, username="admin").role == "admin"

    assert audit_events(site, "user_create")[0] == ("admin", {"username": "dora", "role": "op"})
    assert audit_events(site, "user_set_role")[0][1]["previous_role"] == "op"
    assert audit_events(site, "user_delete")[0] == ("admin", {"username": "dora"})

    roles = admin.get("/roles", headers=HTML).text
    assert 'data-role="viewer"' in roles and "trigger runs" in roles and "manage users" in roles


def test_api_tokens_are_shown_once_work_and_are_revoked(site: Site) -> None:
    admin, csrf = site.login("admin")
    assert admin.post("/tokens/new", data={"username": "op", "name": "ci"}).status_code == 403
    page = admin.post(
        "/tokens/new", data={"csrf_token": csrf, "username": "op", "name": "nightly", "expires_days": "30"}
    )
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = re.search(r'data-testid="token-secret">([^<]+)<', page.text)
    assert found is not None
    token = found.group(1)
    bearer = site.client()
    assert bearer.get("/api/v1/dags", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    listing = admin.get("/tokens", headers=HTML).text
    with site.factory() as session:
        row = session.query(ApiTokenModel).one()
    assert row.token_hash == hash_token(token)
    assert "nightly" in listing and f'data-token-id="{row.id}"' in listing
    assert token not in listing and row.token_hash not in listing
    assert audit_events(site, "token_create")[0][0] == "admin"

    assert admin.post(f"/tokens/{row.id}/revoke", data={}).status_code == 403
    admin.post(f"/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert bearer.get("/api/v1/dags", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "No API tokens" in admin.get("/tokens", headers=HTML).text
    assert audit_events(site, "token_revoke")[0] == (
        "admin",
        {"id": row.id, "name": "nightly", "username": "op"},
    )
    gone = admin.post(f"/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert f"No API token with id {row.id}" in gone.text


def test_configuration_page_masks_every_secret(site: Site) -> None:
    admin, _ = site.login("admin")
    page = admin.get("/configuration", headers=HTML).text
    assert 'data-section="webserver"' in page and 'data-key="webserver.default_ui_timezone"' in page
    assert 'data-key="core.parallelism"' in page
    broker = re.search(
        r'data-key="celery.broker_url"><th class="mono">broker_url</th><td class="mono">([^<]*)<', page
    )
    assert broker is not None and broker.group(1) == "***"
    assert "redis://" not in page  # the broker URL is a secret setting: masked whole


def test_configuration_page_hides_secrets_set_by_the_operator(
    site: Site, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__WEBSERVER__SECRET_KEY", "page-signing-secret-42")
    monkeypatch.setenv("TRADEWIND__METRICS__TOKEN", "scrape-token-42")
    from tradewind.api.app import create_app
    from tradewind.config.settings import load_settings

    site.app = create_app(load_settings())
    admin, _ = site.login("admin")
    page = admin.get("/configuration", headers=HTML).text
    assert 'data-key="webserver.secret_key"' in page
    assert "page-signing-secret-42" not in page and "scrape-token-42" not in page


def test_xcom_list_filters_and_masks_values(site: Site) -> None:
    with transaction(site.factory) as session:
        for run_id in ("r1", "r2"):
            dag_runs.create_dag_run(
                session=session,
                dag_id=DAG_ID,
                run_id=run_id,
                run_type="manual",
                logical_date=NOW.replace(day=1 if run_id == "r1" else 2),
                data_interval=None,
                now=NOW,
            )
            xcom.set_xcom(
                session=session, dag_id=DAG_ID, run_id=run_id, task_id="extract", value={"rows": 42}
            )
        xcom.set_xcom(
            session=session,
            dag_id=DAG_ID,
            run_id="r1",
            task_id="load",
            key="warehouse",
            value={"host": "db.internal", "password": "hunter2-xcom"},
        )
        xcom.set_xcom(
            session=session, dag_id=DAG_ID, run_id="r1", task_id="load", key="api_token", value="tok-xyz-123"
        )
    viewer, _ = site.login("viewer")
    everything = viewer.get("/xcoms", headers=HTML).text
    assert everything.count("data-xcom=") == 4
    assert "db.internal" in everything and "&#34;rows&#34;: 42" in everything
    assert "hunter2-xcom" not in everything and "tok-xyz-123" not in everything
    assert "(masked)" in everything

    by_run = viewer.get("/xcoms?dag_id=shop_orders&run_id=r2", headers=HTML).text
    assert by_run.count("data-xcom=") == 1 and 'data-xcom="extract/return_value"' in by_run
    by_task_key = viewer.get("/xcoms?task_id=load&key=warehouse", headers=HTML).text
    assert by_task_key.count("data-xcom=") == 1 and 'data-xcom="load/warehouse"' in by_task_key
    assert "No XComs match" in viewer.get("/xcoms?dag_id=ghost", headers=HTML).text
