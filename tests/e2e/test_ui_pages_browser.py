"""The time-zone picker and the admin pages in a real browser (Debian's chromium through Playwright) against a
real `tradewind webserver` on SQLite: choose a zone, reload, times follow; then a walk through users, roles,
API tokens, XComs and configuration. One server and one browser for the module; state is seeded into the
database directly where the browser is not the point. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.cheap_password_hashes import cheap_hash
from tests.e2e.test_webserver_browser import CHROMIUM, CHROMIUM_ARGS, NOT_UP_YET, SCREENSHOTS, free_port
from tests.integration.api.conftest import build_dag, seed_dag
from tests.migrated_databases import migrate_database
from tests.waiting import wait_for
from tradewind.core.states import DagRunState
from tradewind.store import dag_runs, users, xcom
from tradewind.store.engine import make_engine, make_session_factory, transaction

pytestmark = [
    pytest.mark.browser,
]

ADMIN, PASSWORD = "admin", "e2e-admin-pass"
DAG_ID = "shop_orders"
RUN_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TIMEOUT_MS = 30_000


@dataclass
class Server:
    url: str
    home: Path


def seed(db_url: str) -> None:
    migrate_database(db_url)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        users.create_user(
            session=session, username=ADMIN, password_hash=cheap_hash(PASSWORD), role="admin"
        )
    seed_dag(factory, build_dag(DAG_ID))
    with transaction(factory) as session:
        dag_runs.create_dag_run(
            session=session,
            dag_id=DAG_ID,
            run_id="scheduled__2026-03-01",
            run_type="scheduled",
            logical_date=RUN_AT,
            data_interval=None,
            state=DagRunState.SUCCESS,
            now=RUN_AT,
        )
        xcom.set_xcom(
            session=session,
            dag_id=DAG_ID,
            run_id="scheduled__2026-03-01",
            task_id="load",
            key="warehouse",
            value={"host": "db.internal", "password": "browser-secret-1"},
            now=RUN_AT,
        )
    engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("tw_home")
    (home / "dags").mkdir()
    db_url = f"sqlite:///{home / 'tradewind.db'}"
    seed(db_url)
    port = free_port()
    env = dict(
        os.environ,
        TRADEWIND_HOME=str(home),
        TRADEWIND__DATABASE__URL=db_url,
        TRADEWIND__CELERY__BROKER_URL="redis://:broker-secret-9@127.0.0.1:6379/0",
    )
    log = (home / "webserver.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tradewind.cli.main", "webserver", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # A route loaded after /health (the webserver answers /health while it loads the rest).
        wait_for(lambda: httpx.get(url + "/api/v2/monitor/health").status_code == 200,
                 timeout=60, what="the webserver", ignoring=NOT_UP_YET, interval=0.25)
        yield Server(url, home)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.goto(server.url + "/login")
    tab.fill("input[name=username]", ADMIN)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    expect(tab.get_by_test_id("current-user")).to_contain_text(ADMIN)
    yield tab
    context.close()


def test_the_time_zone_picker_moves_every_time_and_survives_a_reload(page: Page, server: Server) -> None:
    runs = f"{server.url}/dags/{DAG_ID}/runs"
    page.goto(runs)
    expect(page.locator("main")).to_contain_text("2026-03-01 12:00:00 UTC")

    page.get_by_test_id("tz-picker").select_option("Europe/Paris")  # submits itself
    expect(page.locator(".flash")).to_contain_text("Times are now shown in Europe/Paris")
    expect(page).to_have_url(runs)
    expect(page.locator("main")).to_contain_text("2026-03-01 13:00:00 CET")
    page.screenshot(path=SCREENSHOTS / "timezone_runs_paris.png", full_page=True)

    page.reload()
    expect(page.get_by_test_id("tz-picker")).to_have_value("Europe/Paris")
    expect(page.locator("main")).to_contain_text("2026-03-01 13:00:00 CET")
    expect(page.locator("main")).not_to_contain_text("12:00:00 UTC")
    # Scripts format times with the same zone and the same shape.
    shown = page.evaluate("window.tradewind.formatTime('2026-03-01T12:00:00+00:00')")
    assert shown == "2026-03-01 13:00:00 CET"

    page.goto(server.url + "/dags")
    expect(page.get_by_test_id("last-run")).to_contain_text("2026-03-01 13:00:00 CET")
    page.goto(f"{server.url}/dags/{DAG_ID}")
    expect(page.get_by_test_id("dag-timezone")).to_have_text("UTC")  # the DAG's own zone stays its own

    page.get_by_test_id("tz-picker").select_option("America/New_York")
    expect(page.locator(".flash")).to_contain_text("America/New_York")
    page.goto(runs)
    expect(page.locator("main")).to_contain_text("2026-03-01 07:00:00 EST")
    page.get_by_test_id("tz-picker").select_option("")
    expect(page.locator(".flash")).to_contain_text("the default (UTC)")
    page.goto(runs)
    expect(page.locator("main")).to_contain_text("2026-03-01 12:00:00 UTC")


def test_walk_through_users_tokens_xcoms_and_configuration(page: Page, server: Server) -> None:
    page.goto(server.url + "/dags")
    page.get_by_test_id("admin-menu").locator("summary").click()
    page.get_by_role("link", name="Users").click()
    expect(page).to_have_url(server.url + "/users")
    form = page.get_by_test_id("new-user")
    form.locator("input[name=username]").fill("bea")
    form.locator("select[name=role]").select_option("op")
    form.locator("input[name=password]").fill("bea-password-1")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("User bea created with role op")
    row = page.locator("tr[data-user=bea]")
    row.locator("select[name=role]").select_option("viewer")
    row.get_by_role("button", name="Change role").click()
    expect(page.locator(".flash")).to_contain_text("User bea now has role viewer")
    page.screenshot(path=SCREENSHOTS / "users.png", full_page=True)

    page.goto(server.url + "/roles")
    expect(page.locator("tr[data-role=op]")).to_contain_text("trigger runs")
    page.screenshot(path=SCREENSHOTS / "roles.png", full_page=True)

    page.goto(server.url + "/tokens")
    token_form = page.get_by_test_id("new-token-form")
    token_form.locator("select[name=username]").select_option("bea")
    token_form.locator("input[name=name]").fill("reporting")
    token_form.locator("button[type=submit]").click()
    secret = page.get_by_test_id("token-secret").inner_text()
    assert secret.startswith("tw_")
    page.screenshot(path=SCREENSHOTS / "api_token_created.png", full_page=True)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(server.url + "/api/v1/dags", headers=bearer).status_code == 200
    page.goto(server.url + "/tokens")
    expect(page.locator("main")).not_to_contain_text(secret)
    page.locator("tr", has_text="reporting").get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash")).to_contain_text("revoked")
    assert httpx.get(server.url + "/api/v1/dags", headers=bearer).status_code == 401

    page.goto(server.url + "/dags")
    page.get_by_role("link", name="XComs").click()
    expect(page.get_by_test_id("xcoms")).to_contain_text("db.internal")
    expect(page.get_by_test_id("xcoms")).not_to_contain_text("browser-secret-1")
    page.screenshot(path=SCREENSHOTS / "xcoms.png", full_page=True)

    page.goto(server.url + "/configuration")
    expect(page.locator("tr[data-key='celery.broker_url'] td")).to_have_text("***")
    expect(page.locator("main")).not_to_contain_text("broker-secret-9")
    page.screenshot(path=SCREENSHOTS / "configuration.png", full_page=True)
