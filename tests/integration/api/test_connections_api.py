"""/api/v1/connections and /api/v2/connections: CRUD, the test endpoint, roles, audit, and no secret in any
answer (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from tests.integration.api.conftest import PASSWORDS, Site
from tradewind.config.settings import Settings, load_settings
from tradewind.sdk.connection import Connection
from tradewind.sdk.hooks.base import BaseHook
from tradewind.store import connections
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher

KEY = Fernet.generate_key().decode()
SECRET, TOKEN = "pw-Zq81!secret", "tok-77alpha"
BODY = {
    "connection_id": "warehouse",
    "conn_type": "postgres",
    "host": "db.internal",
    "login": "etl",
    "schema": "sales",
    "port": 5432,
    "password": SECRET,
    "extra": json.dumps({"sslmode": "require", "api_token": TOKEN}),
    "description": "the warehouse",
}


class ProbeHook(BaseHook):
    """A hook whose test reads its connection the way every hook does (through the task runtime)."""

    conn_name_attr = "probe_conn_id"
    default_conn_name = "probe_default"
    conn_type = "tw_probe"
    hook_name = "Probe"

    def __init__(self, probe_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.probe_conn_id = probe_conn_id

    def test_connection(self) -> tuple[bool, str]:
        conn = self.get_connection(self.probe_conn_id)
        if conn.password == "wrong":
            raise ConnectionError(f"login refused for password {conn.password} at {conn.host}")
        return True, f"probe reached at {conn.host}"


@pytest.fixture
def settings(tw_home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", db_url)
    monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", KEY)
    monkeypatch.setenv("TRADEWIND__CORE__TEST_CONNECTION", "enabled")
    return load_settings()


def as_role(site: Site, role: str) -> TestClient:
    client = site.client()
    client.auth = (role, PASSWORDS[role])
    return client


def stored(site: Site, conn_id: str) -> Connection:
    with site.factory() as session:
        return connections.get_connection(session=session, conn_id=conn_id, cipher=FieldCipher(KEY))


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_crud_keeps_secrets_on_the_server(site: Site, version: str) -> None:
    client = as_role(site, "op")
    api = f"/api/{version}/connections"
    created = client.post(api, json=BODY)
    assert created.status_code == (200 if version == "v1" else 201), created.text
    answers = [created]
    body = created.json()
    assert body["connection_id"] == "warehouse" and body["schema"] == "sales" and body["port"] == 5432
    assert json.loads(body["extra"]) == {"sslmode": "require", "api_token": "***"}
    assert ("password" not in body) if version == "v1" else (body["password"] == "***")
    assert client.post(api, json=BODY).status_code == 409
    assert stored(site, "warehouse").password == SECRET

    client.post(api, json={"connection_id": "a_http", "conn_type": "http", "host": "example.com"})
    listed = client.get(api, params={"order_by": "-connection_id", "limit": 1})
    answers.append(listed)
    assert listed.json()["total_entries"] == 2
    assert [c["connection_id"] for c in listed.json()["connections"]] == ["warehouse"]
    assert [
        c["connection_id"] for c in client.get(api, params={"order_by": "conn_type"}).json()["connections"]
    ] == [
        "a_http",
        "warehouse",
    ]
    answers.append(client.get(f"{api}/warehouse"))

    # A PATCH names what changes; the password and masked extra values sent back as shown are kept.
    shown = client.get(f"{api}/warehouse").json()
    patched = client.patch(
        f"{api}/warehouse",
        params={"update_mask": ["host", "extra"]},
        json={**BODY, "host": "db2.internal", "extra": shown["extra"], "password": "ignored-not-in-mask"},
    )
    answers.append(patched)
    assert patched.status_code == 200, patched.text
    after = stored(site, "warehouse")
    assert (after.host, after.password, after.extra_dejson["api_token"]) == ("db2.internal", SECRET, TOKEN)
    assert client.patch(f"{api}/warehouse", json={**BODY, "connection_id": "other"}).status_code == 422
    bad_mask = client.patch(f"{api}/warehouse", params={"update_mask": "conn_id"}, json=BODY)
    assert bad_mask.status_code == 422 and "update_mask" in bad_mask.text
    rotated = client.patch(
        f"{api}/warehouse", params={"update_mask": "password"}, json={**BODY, "password": "new-pw"}
    )
    assert rotated.status_code == 200 and stored(site, "warehouse").password == "new-pw"

    assert client.delete(f"{api}/warehouse").status_code == 204
    assert client.get(f"{api}/warehouse").status_code == 404
    assert client.delete(f"{api}/warehouse").status_code == 404
    for answer in answers:
        assert SECRET not in answer.text and TOKEN not in answer.text

    events = as_role(site, "admin").get("/api/v1/eventLogs").json()["event_logs"]
    mine = [
        (e["event"], e["owner"], e["extra"]["conn_id"])
        for e in events
        if e["event"].startswith("connection_")
    ]
    assert ("connection_create", "op", "warehouse") in mine and (
        "connection_delete",
        "op",
        "warehouse",
    ) in mine
    assert [m for m in mine if m[0] == "connection_update"] and SECRET not in str(events)


def test_only_admin_and_op_reach_connections(site: Site) -> None:
    with transaction(site.factory) as session:
        connections.set_connection(
            session=session,
            connection=Connection("seeded", conn_type="http", password=SECRET),
            cipher=FieldCipher(KEY),
        )
    for version in ("v1", "v2"):
        api = f"/api/{version}/connections"
        viewer = as_role(site, "viewer")
        assert viewer.get(api).status_code == 403
        assert viewer.get(f"{api}/seeded").status_code == 403
        assert viewer.post(api, json={**BODY, "connection_id": "v"}).status_code == 403
        assert viewer.delete(f"{api}/seeded").status_code == 403
        assert site.client().get(api).status_code == 401
        assert as_role(site, "admin").get(f"{api}/seeded").status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "names"),
    [
        ({"connection_id": "has space"}, 422, "connection_id"),
        ({"port": 70000}, 422, "port"),
        ({"port": "5432"}, 422, "port"),
        ({"conn_type": ""}, 422, "conn_type"),
        ({"extra": "{not json"}, 400, "'extra'"),
        ({"extra": "[1, 2]"}, 400, "'extra'"),
        ({"unknown": 1}, 422, "unknown"),
    ],
)
def test_bad_input_names_the_field_never_the_secret(
    site: Site, change: dict[str, object], status: int, names: str
) -> None:
    answer = as_role(site, "admin").post("/api/v1/connections", json={**BODY, **change})
    assert answer.status_code == status, answer.text
    assert names in answer.json()["detail"] and SECRET not in answer.text


def test_a_wrong_fernet_key_names_the_connection_and_field(site: Site) -> None:
    other = Fernet.generate_key().decode()
    with transaction(site.factory) as session:
        connections.set_connection(
            session=session,
            connection=Connection("locked", conn_type="http", password=SECRET),
            cipher=FieldCipher(other),
        )
    answer = as_role(site, "admin").get("/api/v1/connections/locked")
    assert answer.status_code == 400
    assert "connection 'locked', field 'password'" in answer.json()["detail"] and SECRET not in answer.text


def test_the_test_endpoint_runs_the_hook(site: Site) -> None:
    client = as_role(site, "op")
    unknown = client.post("/api/v1/connections/test", json={**BODY, "conn_type": "no_such_type"}).json()
    assert unknown["status"] is False and "no_such_type" in unknown["message"]
    answer = client.post("/api/v2/connections/test", json={"connection_id": "probe", "conn_type": "tw_probe"})
    assert answer.status_code == 200
    assert answer.json() == {"status": True, "message": "probe reached at None"}
    failed = client.post(
        "/api/v1/connections/test",
        json={"connection_id": "probe", "conn_type": "tw_probe", "host": "h1", "password": "wrong"},
    ).json()
    assert failed == {"status": False, "message": "ConnectionError: login refused for password *** at h1"}
    # A stored connection tested with its masked password as the API showed it: the stored one is used.
    client.post(
        "/api/v1/connections", json={"connection_id": "kept", "conn_type": "tw_probe", "password": "wrong"}
    )
    shown = client.get("/api/v2/connections/kept").json()
    again = client.post(
        "/api/v2/connections/test", json={k: v for k, v in shown.items() if k != "team_name"}
    ).json()
    assert again["status"] is False and "***" in again["message"]
