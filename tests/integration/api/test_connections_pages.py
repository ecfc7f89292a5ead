"""The /connections pages: admin and op only, a form shaped by the hook of the conn_type, secrets never sent to
the browser (an empty password or a *** keeps the stored value), the Test button, CSRF, and audit entries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cryptography.fernet import Fernet

from tests.integration.api.conftest import Site
from tradewind.config.settings import Settings, load_settings
from tradewind.sdk.connection import Connection
from tradewind.sdk.hooks.base import BaseHook
from tradewind.store import audit, connections
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher

KEY = Fernet.generate_key().decode()
SECRET, WIDGET_SECRET, EXTRA_SECRET = "pw-Ui-0017", "wkey-Ui-42", "xtok-Ui-99"
HTML = {"accept": "text/html"}


class WarehouseHook(BaseHook):
    conn_name_attr = "warehouse_conn_id"
    default_conn_name = "warehouse_default"
    conn_type = "tw_warehouse"
    hook_name = "Warehouse"

    def __init__(self, warehouse_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.warehouse_conn_id = warehouse_conn_id

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return {
            "region": {"label": "Region", "type": "string", "placeholder": "eu-west-1"},
            "api_key": {"label": "API key", "type": "password", "description": "from the console"},
            "retries": {"label": "Retries", "type": "integer"},
            "verify": {"label": "Verify TLS", "type": "boolean"},
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port"],
            "relabeling": {"login": "Account name"},
            "placeholders": {"host": "warehouse.example.com"},
        }

    def test_connection(self) -> tuple[bool, str]:
        conn = self.get_connection(self.warehouse_conn_id)
        ok = conn.password == SECRET and conn.extra_dejson.get("api_key") == WIDGET_SECRET
        return ok, f"account {conn.login} at {conn.host}"


@pytest.fixture
def settings(tw_home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", db_url)
    monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", KEY)
    monkeypatch.setenv("TRADEWIND__CORE__TEST_CONNECTION", "enabled")
    return load_settings()


def stored(site: Site, conn_id: str) -> Connection:
    with site.factory() as session:
        return connections.get_connection(session=session, conn_id=conn_id, cipher=FieldCipher(KEY))


def flash(response: Any) -> str:
    return unquote(response.cookies.get("tradewind_flash") or "")


def test_the_form_follows_the_hook_and_never_shows_a_secret(site: Site) -> None:
    client, csrf = site.login("op")
    assert 'href="/connections"' in client.get("/dags", headers=HTML).text
    form = client.get("/connections/new?conn_type=tw_warehouse", headers=HTML).text
    assert "Account name" in form and "warehouse.example.com" in form and "API key" in form
    assert 'name="schema"' not in form and 'name="port"' not in form and 'name="widget__verify"' in form

    created = client.post(
        "/connections/new",
        data={
            "csrf_token": csrf,
            "conn_type": "tw_warehouse",
            "conn_id": "wh",
            "host": "wh.example.com",
            "login": "acme",
            "password": SECRET,
            "extra": f'{{"token": "{EXTRA_SECRET}", "pool": 4}}',
            "widget__region": "eu-north-1",
            "widget__api_key": WIDGET_SECRET,
            "widget__retries": "3",
            "widget__verify": "1",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    conn = stored(site, "wh")
    assert (conn.conn_type, conn.host, conn.login, conn.password) == (
        "tw_warehouse",
        "wh.example.com",
        "acme",
        SECRET,
    )
    assert conn.extra_dejson == {
        "token": EXTRA_SECRET, "pool": 4, "region": "eu-north-1", "api_key": WIDGET_SECRET, "retries": 3,
        "verify": True,
    }  # fmt: skip

    pages = [
        client.get("/connections", headers=HTML).text,
        client.get("/connections/wh/edit", headers=HTML).text,
    ]
    for page in pages:
        assert SECRET not in page and WIDGET_SECRET not in page and EXTRA_SECRET not in page
    assert "eu-north-1" in pages[1] and "***" in pages[1]

    # Saved back as shown (empty password, empty API key, *** in extra): every secret is kept.
    edit_form = dict(
        re.findall(r'name="(host|login|widget__region|widget__retries)" [^>]*value="([^"]*)"', pages[1])
    )
    extra_shown = re.search(r'<textarea name="extra"[^>]*>([^<]*)</textarea>', pages[1])
    assert extra_shown is not None
    saved = client.post(
        "/connections/wh/edit",
        data={
            **edit_form,
            "csrf_token": csrf,
            "conn_type": "tw_warehouse",
            "password": "",
            "widget__api_key": "",
            "extra": extra_shown.group(1).replace("&#34;", '"'),
            "host": "wh2.example.com",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    after = stored(site, "wh")
    assert (after.host, after.password) == ("wh2.example.com", SECRET)
    assert after.extra_dejson["api_key"] == WIDGET_SECRET and after.extra_dejson["token"] == EXTRA_SECRET
    assert after.extra_dejson["verify"] is False  # an unticked box is false

    tested = client.post("/connections/wh/test", data={"csrf_token": csrf}, follow_redirects=False)
    assert tested.status_code == 303
    assert flash(tested) == "Connection wh: test succeeded: account acme at wh2.example.com"

    deleted = client.post("/connections/wh/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert deleted.status_code == 303
    with site.factory() as session:
        entries, _total = audit.list_audit(session=session)
    trail = [
        (e.event, e.owner, (e.extra or {}).get("via")) for e in entries if e.event.startswith("connection_")
    ]
    assert trail == [
        ("connection_delete", "op", "ui"),
        ("connection_update", "op", "ui"),
        ("connection_create", "op", "ui"),
    ]
    assert SECRET not in str([e.extra for e in entries])


def test_viewers_cannot_see_connections_and_forms_need_the_csrf_token(site: Site) -> None:
    with transaction(site.factory) as session:
        connections.set_connection(
            session=session,
            connection=Connection("db", conn_type="http", password=SECRET),
            cipher=FieldCipher(KEY),
        )
    viewer, _csrf = site.login("viewer")
    assert 'href="/connections"' not in viewer.get("/dags", headers=HTML).text
    assert viewer.get("/connections", headers=HTML).status_code == 403
    assert viewer.get("/connections/db/edit", headers=HTML).status_code == 403
    admin, csrf = site.login("admin")
    assert admin.get("/connections", headers=HTML).status_code == 200
    no_token = admin.post("/connections/db/delete", headers=HTML, follow_redirects=False)
    assert no_token.status_code == 403
    assert stored(site, "db").password == SECRET
    bad_port = admin.post(
        "/connections/new",
        data={"csrf_token": csrf, "conn_type": "http", "conn_id": "p", "port": "eighty"},
        headers=HTML,
    )
    assert bad_port.status_code == 422 and "port must be a whole number" in bad_port.text
    failed = admin.post("/connections/db/test", data={"csrf_token": csrf}, follow_redirects=False)
    assert "test failed" in flash(failed) and SECRET not in flash(failed)
