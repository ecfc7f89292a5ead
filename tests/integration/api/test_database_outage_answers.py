"""The webserver while its database is down: a clear 503 with Retry-After (never a 500 with a stack trace),
and the same requests answer again once the database is back, with no restart (issue 18)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cheap_password_hashes import cheap_hash
from tests.integration.api.conftest import PASSWORDS, Site
from tests.migrated_databases import migrate_database
from tests.waiting import wait_for
from tradewind.api.app import create_app
from tradewind.config.settings import load_settings
from tradewind.store import users
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.testing.private_postgres import PrivatePostgres, available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not available(), reason="needs root and PostgreSQL 15's binaries for a private server"
    ),
]


@pytest.fixture
def site(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, PrivatePostgres]]:
    server = PrivatePostgres()
    server.start()
    url = server.url(f"tw_{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", url)
    settings = load_settings()
    migrate_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        users.create_user(session=session, username="admin", password_hash=cheap_hash(PASSWORDS["admin"]),
                          role="admin")  # fmt: skip
    site = Site(app=create_app(settings), settings=settings, factory=factory, clients=[])
    try:
        yield site, server
    finally:
        for client in site.clients:
            client.__exit__(None, None, None)
        engine.dispose()
        server.destroy()


def test_the_webserver_answers_503_while_the_database_is_down_and_recovers_by_itself(
    site: tuple[Site, PrivatePostgres],
) -> None:
    web, server = site
    client, _csrf = web.login("admin")
    assert client.get("/api/v2/dags").status_code == 200

    server.stop()
    api = client.get("/api/v2/dags")
    assert api.status_code == 503, api.text
    assert int(api.headers["Retry-After"]) > 0
    assert "metadata database is unavailable" in api.json()["detail"]
    assert "Traceback" not in api.text
    page = client.get("/dags", headers={"accept": "text/html"})
    assert page.status_code == 503 and "metadata database is unavailable" in page.text

    server.start()
    wait_for(
        lambda: client.get("/api/v2/dags").status_code == 200, what="the API to answer again", timeout=30
    )
    assert client.get("/dags", headers={"accept": "text/html"}).status_code == 200
