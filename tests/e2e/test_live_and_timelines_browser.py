"""Live state and timelines in a real browser (Debian's chromium through Playwright) against one
`tradewind standalone` shared by the module: pages opened while a run waits follow it to success without a
reload (task badge, DAG list dots, run picker, the "is queued" flash) and stop asking once it is over; the
Gantt, duration charts, calendar, landing times and the grid's keyboard navigation. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.test_webserver_browser import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    NOT_UP_YET,
    PASSWORD,
    SCREENSHOTS,
    TIMEOUT_MS,
    free_port,
)
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.browser,
]
DAG_ID = "live_demo"
CRON_DAG = "example_cron_schedule"
AUTH = (ADMIN, PASSWORD)
# A run of live_demo waits at `gate` until the test creates the gate file, so pages can be opened while it
# is unfinished; `flaky` fails its first try (a second bar in the Gantt); `square` is mapped over three.
DAG_SOURCE = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator, task

with DAG("live_demo", schedule=None, start_date=datetime(2024, 1, 1), catchup=False,
         default_args={{"retries": 1, "retry_delay": timedelta(seconds=1)}}):
    gate = BashOperator(task_id="gate", bash_command="for i in $(seq 1500); do [ -f {gate} ] && exit 0; sleep 0.2; done; exit 1")
    flaky = BashOperator(task_id="flaky", bash_command="[ -f {mark}_$RUN ] || {{ touch {mark}_$RUN; exit 1; }}",
                         env={{"RUN": "{{{{ run_id }}}}"}})

    @task
    def square(n: int) -> int:
        return n * n

    gate >> flaky >> square.expand(n=[1, 2, 3])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("tw_home_live")
    (home / "dags").mkdir()
    (home / "logs").mkdir()
    gate = home / "gate"
    source = DAG_SOURCE.format(gate=gate, mark=home / "flaky")
    (home / "dags" / "live_demo.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(
        TRADEWIND_HOME=str(home),
        TRADEWIND_ADMIN_USER=ADMIN,
        TRADEWIND_ADMIN_PASSWORD=PASSWORD,
        TRADEWIND__SCHEDULER__LOOP_INTERVAL="0.2",
        TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL="1",
    )
    port = free_port()
    log = (home / "standalone.log").open("w")
    command = [
        sys.executable,
        "-m",
        "tradewind.cli.main",
        "standalone",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(url + "/health").json()["scheduler"]["status"] == "healthy",
                 timeout=60, what="the scheduler", ignoring=NOT_UP_YET, interval=0.25)
        wait_for(lambda: httpx.get(f"{url}/api/v1/dags/{DAG_ID}", auth=AUTH).status_code == 200,
                 timeout=60, what="live_demo parsed", ignoring=NOT_UP_YET, interval=0.25)
        for dag_id in (DAG_ID, CRON_DAG):  # the cron example gets its latest scheduled run on unpause
            httpx.patch(
                f"{url}/api/v1/dags/{dag_id}", json={"is_paused": False}, auth=AUTH
            ).raise_for_status()
        yield url, gate
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
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def context(browser: Browser, server: tuple[str, Path]) -> Iterator[BrowserContext]:
    url, _gate = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(url + "/login?next=%2Fdags")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_contain_text(ADMIN)
    page.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield ctx
    ctx.close()


def open_marked(context: BrowserContext, url: str) -> Page:
    """A page with a mark that a reload would wipe out."""
    page = context.new_page()
    page.goto(url)
    page.evaluate("window.__notReloaded = true")
    return page


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def test_pages_follow_a_run_to_success_without_reload_then_stop(
    context: BrowserContext, server: tuple[str, Path]
) -> None:
    url, gate = server
    created = httpx.post(f"{url}/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "live_a"}, auth=AUTH)
    created.raise_for_status()
    task = open_marked(context, f"{url}/dags/{DAG_ID}/runs/live_a/tasks/gate")
    dag_list = open_marked(context, f"{url}/dags?q=live_demo")
    graph = open_marked(context, f"{url}/dags/{DAG_ID}?run_id=live_a")
    badge = task.get_by_test_id("ti-state")
    expect(badge).to_have_attribute("data-state", "running", timeout=TIMEOUT_MS)  # follows the try start
    expect(task.get_by_test_id("try-end")).to_have_text("")
    option = graph.locator('[data-testid=run-picker] option[value="live_a"]')
    expect(option).to_have_attribute("data-state", "running", timeout=TIMEOUT_MS)

    # A run triggered from the form: its "is queued" flash goes once the run moves on.
    # The scheduler takes a run up within milliseconds: hold the page's live feed back until the flash is seen.
    trigger = open_marked(context, f"{url}/dags/{DAG_ID}/trigger")
    trigger.route("**/ui/live*", lambda route: route.abort())
    trigger.get_by_test_id("trigger-submit").click()
    expect(trigger.get_by_test_id("flash")).to_contain_text("is queued")
    trigger.wait_for_load_state()
    trigger.evaluate("window.__notReloaded = true")
    trigger.unroute("**/ui/live*")
    trigger.evaluate("window.tradewind.live.refresh()")
    expect(trigger.get_by_test_id("flash")).to_have_count(0, timeout=TIMEOUT_MS)
    trigger.screenshot(path=SCREENSHOTS / "live_flash_cleared.png")

    gate.touch()
    expect(badge).to_have_attribute("data-state", "success", timeout=TIMEOUT_MS)
    expect(task.get_by_test_id("try-end")).not_to_have_text("")
    expect(task.get_by_test_id("try-duration")).to_contain_text("s")
    expect(task.locator("[data-testid=try-link][data-try-number='1']")).to_have_attribute(
        "data-state", "success"
    )
    expect(
        task.locator("[data-testid=tries-table] tr[data-try='1'] [data-try-field=end_date]")
    ).not_to_have_text("")
    expect(option).to_have_attribute("data-state", "success", timeout=TIMEOUT_MS)
    expect(option).to_contain_text("(success)")
    expect(graph.get_by_test_id("graph")).to_have_attribute("data-run-state", "success")
    expect(graph.locator("g.node[data-task-id=flaky]")).to_have_attribute("data-try", "2")
    expect(graph.locator("g.node[data-task-id=square] text.mapped-count")).to_have_text("[3]")
    dots = dag_list.locator(f"tr[data-dag-id={DAG_ID}] [data-testid=recent-runs] .dot")
    expect(dots).to_have_count(2)
    expect(dag_list.locator(f"tr[data-dag-id={DAG_ID}] .dot.state-success")).to_have_count(
        2, timeout=TIMEOUT_MS
    )
    for page, name in (
        (task, "live_task"),
        (dag_list, "live_dag_list"),
        (graph, "live_graph"),
        (trigger, None),
    ):
        assert not_reloaded(page)
        expect(page.locator("html")).to_have_attribute("data-live-status", "idle", timeout=TIMEOUT_MS)
        if name:
            page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
        page.close()

    # An idle page asks nothing at all.
    asked: list[str] = []
    idle = context.new_page()
    idle.on("request", lambda request: asked.append(request.url) if "/ui/live" in request.url else None)
    idle.goto(f"{url}/dags/{DAG_ID}/runs/live_a/tasks/gate")
    expect(idle.locator("html")).to_have_attribute("data-live-status", "idle")
    assert asked == []
    idle.close()


def test_gantt_charts_calendar_and_landing_times(context: BrowserContext, server: tuple[str, Path]) -> None:
    url, _gate = server
    page = context.new_page()
    page.goto(f"{url}/dags/{DAG_ID}/gantt?run_id=live_a")
    gantt = page.get_by_test_id("gantt")
    expect(gantt.locator("rect.try-bar[data-task=flaky]")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(gantt.locator("rect.try-bar[data-task=flaky][data-try='1']")).to_have_attribute(
        "data-state", "up_for_retry"
    )
    expect(gantt.locator("rect.try-bar[data-task=square]")).to_have_count(3)
    expect(gantt.locator("rect.queued-bar").first).to_be_attached()
    page.screenshot(path=SCREENSHOTS / "gantt.png", full_page=True)

    page.goto(f"{url}/dags/{DAG_ID}/durations")
    expect(page.get_by_test_id("run-durations").locator("rect.run-bar")).to_have_count(2)
    expect(page.get_by_test_id("task-durations").locator("circle.point[data-task=gate]")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "durations.png", full_page=True)

    page.goto(f"{url}/dags/{DAG_ID}/calendar")
    expect(page.get_by_test_id("calendar").locator("rect.day[data-state=success]")).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / "calendar.png", full_page=True)

    wait_for(lambda: any(
            r["end_date"]
            for r in httpx.get(f"{url}/api/v1/dags/{CRON_DAG}/dagRuns", auth=AUTH).json()["dag_runs"]
        ), timeout=TIMEOUT_MS / 1000, what="the cron example's scheduled run to finish",
        ignoring=NOT_UP_YET, interval=0.25)
    page.goto(f"{url}/dags/{CRON_DAG}/landing-times")
    expect(page.get_by_test_id("landing-times").locator("rect.landing-bar")).to_have_count(
        1, timeout=TIMEOUT_MS
    )
    page.screenshot(path=SCREENSHOTS / "landing_times.png", full_page=True)
    page.close()


def test_grid_keyboard_navigation_and_hover_details(
    context: BrowserContext, server: tuple[str, Path]
) -> None:
    url, _gate = server
    page = context.new_page()
    page.goto(f"{url}/dags/{DAG_ID}/grid")
    expect(page.get_by_test_id("run-bar")).to_have_count(2)
    expect(page.get_by_test_id("mapped-count")).to_have_text("[3]")
    page.locator("#grid .cell.selected").focus()
    selected = page.locator("#grid .cell.selected")
    expect(selected).to_have_attribute("data-row", "0")
    page.keyboard.press("ArrowDown")
    expect(selected).to_have_attribute("data-task", "gate")
    page.keyboard.press("ArrowDown")
    expect(selected).to_have_attribute("data-task", "flaky")
    expect(page.get_by_test_id("grid-hover")).to_contain_text("try: 2")
    page.keyboard.press("ArrowLeft")
    expect(selected).to_have_attribute("data-col", "0")
    page.screenshot(path=SCREENSHOTS / "grid_keyboard.png", full_page=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{url}/dags/{DAG_ID}/runs/live_a/tasks/flaky")
    expect(page.get_by_test_id("tries-table").locator("tr[data-try]")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "task_tries.png", full_page=True)
    page.close()


def test_a_task_page_opened_before_the_first_try_adds_each_try_as_it_starts(
    context: BrowserContext, server: tuple[str, Path]
) -> None:
    """`flaky` waits for `gate`, so its page opened meanwhile shows no try. Once the gate opens, its failed first
    try (archived up_for_retry) and its successful retry each get a chip and a row of the "Every try" table, followed to their ends,
    without a reload."""
    url, gate = server
    gate.unlink(missing_ok=True)  # this run's gate waits until the page is open
    created = httpx.post(f"{url}/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "live_b"}, auth=AUTH)
    created.raise_for_status()
    task = open_marked(context, f"{url}/dags/{DAG_ID}/runs/live_b/tasks/flaky")
    expect(task.get_by_test_id("try-link")).to_have_count(0)
    expect(task.get_by_test_id("tries-table")).to_be_hidden()
    gate.touch()
    rows = task.locator("[data-testid=tries-table] tr[data-try-number]")
    expect(rows.nth(1)).to_have_attribute("data-state", "success", timeout=TIMEOUT_MS)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-state", "up_for_retry")  # as Airflow archives a retried try
    for row in (rows.nth(0), rows.nth(1)):
        expect(row.locator("[data-try-field=end_date]")).not_to_have_text("")
        expect(row.locator("[data-try-field=duration]")).to_contain_text("s")
    expect(task.get_by_test_id("tries-table")).to_be_visible()
    expect(task.get_by_test_id("try-link")).to_have_count(2)
    assert not_reloaded(task)
    task.close()
