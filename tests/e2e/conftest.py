"""Browser tests: they need Debian's chromium (without it they skip, or fail under CI, which installs it), and
their assertions wait as long as a busy machine needs."""

from __future__ import annotations

import pytest

from tests.e2e.test_webserver_browser import CHROMIUM
from tests.required_tools import missing_tool


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture starts a server for a test that cannot open a browser.
    if item.get_closest_marker("browser") is not None and not CHROMIUM.exists():
        missing_tool(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")


#: How long a browser assertion waits for the page to reach what it expects. Playwright's own default (5 s)
#: is shorter than a live page's poll plus a run's step on a machine kept busy by other work.
ASSERTION_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True, scope="session")
def _patient_assertions() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=ASSERTION_TIMEOUT_MS)
