"""The web UI in a real browser (Debian's chromium through Playwright) against `tradewind standalone`:
log in, see a broken DAG file reported, trigger an example DAG and watch the graph reach success, read a
task's log, pause a DAG. Screenshots of the main pages go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.waiting import wait_for

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ADMIN, PASSWORD = "admin", "e2e-admin-pass"
DAG_ID = "example_bash_operator"
TIMEOUT_MS = 60_000
#: Errors that mean "the server is not up yet" while waiting for it.
NOT_UP_YET = (httpx.HTTPError, KeyError, ValueError)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def standalone(tw_home: Path) -> Iterator[str]:
    (tw_home / "dags" / "broken_dag.py").write_text("from tradewind import DAG\n\nwith DAG(dag_id='broken'\n")
    port = free_port()
    env = dict(
        os.environ,
        TRADEWIND_HOME=str(tw_home),
        TRADEWIND_ADMIN_USER=ADMIN,
        TRADEWIND_ADMIN_PASSWORD=PASSWORD,
        TRADEWIND__SCHEDULER__LOOP_INTERVAL="0.2",
        TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL="1",
    )
    log = (tw_home / "standalone.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradewind.cli.main",
            "standalone",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        auth = (ADMIN, PASSWORD)
        wait_for(lambda: httpx.get(url + "/health").json()["scheduler"]["status"] == "healthy",
                 timeout=60, what="the scheduler", ignoring=NOT_UP_YET, interval=0.25)
        wait_for(lambda: (
                httpx.get(url + f"/api/v1/dags/{DAG_ID}", auth=auth).status_code == 200
                and httpx.get(url + "/api/v1/importErrors", auth=auth).json()["total_entries"] >= 1
            ), timeout=60, what="the example DAGs and the broken file to be parsed",
            ignoring=NOT_UP_YET, interval=0.25)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_log_in_trigger_watch_read_the_log_and_pause(standalone: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = standalone
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", lambda dialog: dialog.accept())
        try:
            # Logging in: every page sends an anonymous visitor to the login form first.
            page.goto(url + "/dags")
            expect(page).to_have_url(f"{url}/login?next=%2Fdags")
            page.fill("input[name=username]", ADMIN)
            page.fill("input[name=password]", "not-the-password")
            page.click("button[type=submit]")
            expect(page.get_by_test_id("login-error")).to_contain_text("invalid username or password")
            page.screenshot(path=SCREENSHOTS / "login.png")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.get_by_test_id("current-user")).to_contain_text(ADMIN)

            # The broken file is reported on the DAG list and its own page.
            expect(page.get_by_test_id("import-errors-banner")).to_contain_text("failed to import")
            expect(page.locator(f"tr[data-dag-id={DAG_ID}]")).to_be_visible()
            page.screenshot(path=SCREENSHOTS / "dag_list.png", full_page=True)
            page.click("text=See the errors")
            expect(page.get_by_test_id("import-error")).to_contain_text("broken_dag.py")
            page.screenshot(path=SCREENSHOTS / "import_errors.png")

            # Unpause and trigger the example, then watch the graph turn green.
            page.goto(f"{url}/dags/{DAG_ID}")
            if page.get_by_test_id("dag-paused").count():
                page.get_by_test_id("pause-button").click()
                expect(page.get_by_test_id("dag-active")).to_be_visible()
            page.get_by_test_id("trigger-button").click()
            page.screenshot(path=SCREENSHOTS / "trigger.png")
            page.get_by_test_id("trigger-submit").click()
            # The "is queued" flash goes as soon as the run starts (tests/e2e/test_live_and_timelines_browser.py).
            expect(page).to_have_url(re.compile(r"\?run_id="))
            graph = page.get_by_test_id("graph")
            expect(graph.locator("g.node")).to_have_count(5)
            expect(graph).to_have_attribute("data-run-state", "success", timeout=TIMEOUT_MS)
            for node in graph.locator("g.node").all():
                expect(node).to_have_attribute("data-state", "success")
            page.screenshot(path=SCREENSHOTS / "graph.png", full_page=True)

            page.goto(f"{url}/dags/{DAG_ID}/grid")
            expect(page.locator(".grid .cell.state-success").first).to_be_visible()
            page.screenshot(path=SCREENSHOTS / "grid.png", full_page=True)

            # A task's log, read through the log API by the page.
            page.goto(f"{url}/dags/{DAG_ID}")
            page.locator("g.node[data-task-id=use_env]").click()
            log = page.get_by_test_id("task-log")
            expect(log).to_contain_text("greeting is hello from Tradewind")
            expect(log).to_have_attribute("data-complete", "true")
            expect(page.get_by_test_id("ti-state")).to_contain_text("success")
            page.screenshot(path=SCREENSHOTS / "task_log.png", full_page=True)

            # Pausing is confirmed, takes effect, and is audited.
            page.goto(f"{url}/dags/{DAG_ID}")
            page.get_by_test_id("pause-button").click()
            expect(page.get_by_test_id("dag-paused")).to_be_visible()
            api = httpx.get(f"{url}/api/v1/dags/{DAG_ID}", auth=(ADMIN, PASSWORD)).json()
            assert api["is_paused"] is True
            page.goto(f"{url}/audit-log")
            expect(page.get_by_test_id("audit-table")).to_contain_text("pause")
            expect(page.get_by_test_id("audit-table")).to_contain_text("trigger")
            page.screenshot(path=SCREENSHOTS / "audit_log.png", full_page=True)

            for name, path in (
                ("details", f"/dags/{DAG_ID}/details"),
                ("code", f"/dags/{DAG_ID}/code"),
                ("variables", "/variables"),
                ("pools", "/pools"),
                ("health", "/health"),
                ("api_docs", "/api/v1/ui"),
            ):
                page.goto(url + path)
                page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
            expect(page.locator("body")).to_contain_text("/api/v1/dags")
        finally:
            browser.close()
