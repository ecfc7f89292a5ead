"""The graph view in a real browser draws edge labels and shows display names in place of ids (the shipped
example_setup_teardown DAG), against `tradewind standalone`."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.test_webserver_browser import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SCREENSHOTS,
    TIMEOUT_MS,
    standalone,
)

pytestmark = pytest.mark.browser
DAG_ID = "example_setup_teardown"
__all__ = ["standalone"]


def test_graph_shows_edge_labels_and_display_names(standalone: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(standalone + "/login?next=%2Fdags")
            page.fill("input[name=username]", ADMIN)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator(f"tr[data-dag-id={DAG_ID}] a.dag-link")).to_have_text(
                "Example: setup and teardown"
            )
            page.goto(f"{standalone}/dags/{DAG_ID}")
            expect(page.get_by_test_id("dag-title")).to_have_text("Example: setup and teardown")
            graph = page.get_by_test_id("graph")
            labels = graph.locator("text.edge-label")
            expect(labels).to_have_count(3)
            expect(labels).to_contain_text(["Monday to Friday", "Saturday or Sunday", "report written"])
            expect(graph.locator("g.node[data-task-id=write_report] text").first).to_have_text(
                "Write the report"
            )
            expect(graph.locator("g.node[data-task-id=remove_scratch] text.op")).to_contain_text("teardown")
            page.screenshot(path=SCREENSHOTS / "graph_labels.png", full_page=True)
        finally:
            browser.close()
