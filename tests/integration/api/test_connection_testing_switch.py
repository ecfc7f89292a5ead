"""Testing a connection from the webserver makes it connect wherever an admin or op points it: off unless
``[core] test_connection = "enabled"``, with a message that says how to turn it on (Airflow's default too)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.integration.api.conftest import PASSWORDS, Site
from tradewind.config.settings import Settings, load_settings


@pytest.fixture
def settings(tw_home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", db_url)
    monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", Fernet.generate_key().decode())
    return load_settings()  # test_connection left at its default


def test_testing_from_the_api_and_ui_is_off_by_default(site: Site) -> None:
    assert site.settings.core.test_connection == "disabled"
    api = site.client()
    api.auth = ("admin", PASSWORDS["admin"])
    body = {"connection_id": "probe", "conn_type": "http", "host": "169.254.169.254"}
    for version in ("v1", "v2"):
        refused = api.post(f"/api/{version}/connections/test", json=body)
        assert refused.status_code == 403
        assert "[core] test_connection" in refused.json()["detail"]
    assert api.post("/api/v1/connections", json=body).status_code == 200
    browser, csrf = site.login("admin")
    page = browser.get("/connections")
    assert 'action="/connections/probe/test"' not in page.text and "disabled title=" in page.text
    refused = browser.post("/connections/probe/test", data={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 303 and "test_connection" in refused.headers.get("set-cookie", "")
