"""Metrics from the real processes: scrape the scheduler's, the DAG processor's and the webserver's /metrics over
HTTP after running a DAG, with the bearer token and a login; and `standalone`'s one registry."""

from __future__ import annotations

import re
import socket

import httpx

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for

TOKEN = "scrape-token-1"
BEARER = {"Authorization": f"Bearer {TOKEN}"}

MIXED = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("measured", schedule=None, start_date=datetime(2026, 1, 1)):
    ok = BashOperator(task_id="ok", bash_command="sleep 0.2")
    bad = BashOperator(task_id="bad", bash_command="exit 3")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the Prometheus text, matched by name and (a subset of) its labels."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


class Scraper:
    def __init__(self, url: str, headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None):
        self.url, self.headers, self.auth = url, headers or {}, auth
        self.text = ""

    def has(self, name: str, at_least: float = 1, **labels: str) -> bool:
        try:
            response = httpx.get(self.url, headers=self.headers, auth=self.auth, timeout=5)
        except httpx.TransportError:
            return False
        self.text = response.text if response.status_code == 200 else ""
        value = sample(self.text, name, **labels)
        return value is not None and value >= at_least


def _serve_metrics(deployment: Deployment) -> int:
    port = free_port()
    deployment.env["TRADEWIND__METRICS__SERVE_PORT"] = str(port)
    deployment.env["TRADEWIND__METRICS__TOKEN"] = TOKEN
    return port


@ON_SQLITE_ONLY  # what the metrics say of a run; scheduling on PostgreSQL is the other end-to-end tests' subject
def test_the_schedulers_metrics_reflect_a_run(deployment: Deployment) -> None:
    port = _serve_metrics(deployment)
    deployment.write_dag("measured", MIXED)
    deployment.parse()
    proc = deployment.start("scheduler", "--no-dag-processor")
    url = f"http://127.0.0.1:{port}/metrics"
    scrape = Scraper(url, BEARER)
    wait_for(lambda: scrape.has("tradewind_scheduler_heartbeat_total"), timeout=30, what="a heartbeat",
               details=deployment.dump_logs)
    assert proc.poll() is None

    run_id = deployment.tw("dags", "trigger", "measured").stdout.strip()
    assert deployment.wait_run("measured", run_id) == "failed"

    task = {"dag_id": "measured"}
    for what in (
        lambda: scrape.has("tradewind_ti_finish_total", **task, task_id="ok", state="success"),
        lambda: scrape.has("tradewind_ti_finish_total", **task, task_id="bad", state="failed"),
        lambda: scrape.has("tradewind_ti_start_total", **task, task_id="ok"),
        lambda: scrape.has("tradewind_task_duration_seconds_count", **task, task_id="ok"),
        lambda: scrape.has("tradewind_task_queued_duration_seconds_count", **task, task_id="ok"),
        lambda: scrape.has("tradewind_dagrun_duration_seconds_count", dag_id="measured", state="failed"),
        lambda: scrape.has("tradewind_scheduler_scheduler_loop_duration_seconds_count"),
        # Gauges come with the next heartbeat: every slot open again once the run is over.
        lambda: scrape.has("tradewind_executor_open_slots", 4, executor="local"),
        lambda: scrape.has("tradewind_pool_open_slots", 128, pool_name="default_pool"),
    ):
        wait_for(what, timeout=30, what="the run's metrics", details=lambda: scrape.text)
    # The task ran for at least its 0.2 s sleep.
    assert (sample(scrape.text, "tradewind_task_duration_seconds_sum", **task, task_id="ok") or 0) >= 0.2
    assert sample(scrape.text, "tradewind_pool_running_slots", pool_name="default_pool") == 0
    assert sample(scrape.text, "tradewind_executor_running_tasks", executor="local") == 0


@ON_SQLITE_ONLY
def test_the_metrics_server_wants_the_token(deployment: Deployment) -> None:
    port = _serve_metrics(deployment)
    deployment.start("scheduler", "--no-dag-processor")
    url = f"http://127.0.0.1:{port}/metrics"
    wait_for(lambda: Scraper(url, BEARER).has("tradewind_scheduler_heartbeat_total"), timeout=30,
               what="metrics served", details=deployment.dump_logs)
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer not-it"}).status_code == 401
    assert httpx.get(url, headers=BEARER).status_code == 200


@ON_SQLITE_ONLY
def test_a_non_loopback_host_without_a_token_is_refused(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__METRICS__SERVE_PORT"] = str(free_port())
    deployment.env["TRADEWIND__METRICS__SERVE_HOST"] = "0.0.0.0"
    result = deployment.tw("scheduler", "--no-dag-processor", check=False, timeout=60)
    assert result.returncode == 2
    assert "metrics.token" in result.stderr


@ON_SQLITE_ONLY
def test_a_broken_dag_file_raises_the_import_errors_gauge(deployment: Deployment) -> None:
    port = _serve_metrics(deployment)
    deployment.env["TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL"] = "1"
    deployment.write_dag("measured", MIXED)
    deployment.write_dag("broken", "from tradewind import DAG\nthis is not python (\n")
    deployment.start("dag-processor", log_name="dag-processor")
    scrape = Scraper(f"http://127.0.0.1:{port}/metrics", BEARER)
    wait_for(lambda: scrape.has("tradewind_dag_processing_import_errors", 1), timeout=60,
               what="the import error counted", details=deployment.dump_logs)
    assert scrape.has("tradewind_dag_processing_last_duration_seconds_count", file_name="measured.py")
    (deployment.dags / "broken.py").write_text("from tradewind import DAG\n")
    wait_for(lambda: scrape.has("tradewind_dag_processing_import_errors", 0)
               and sample(scrape.text, "tradewind_dag_processing_import_errors") == 0,
               timeout=60, what="the fixed file no longer counted", details=lambda: scrape.text)


def _two_free_ports() -> int:
    """A port whose next one is free too."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two consecutive free ports")


@ON_SQLITE_ONLY
def test_the_schedulers_own_dag_processor_serves_on_the_next_port(deployment: Deployment) -> None:
    port = _two_free_ports()
    deployment.env["TRADEWIND__METRICS__SERVE_PORT"] = str(port)
    deployment.env["TRADEWIND__METRICS__TOKEN"] = TOKEN
    deployment.write_dag("broken", "from tradewind import DAG\nthis is not python (\n")
    deployment.start_scheduler()
    parsing = Scraper(f"http://127.0.0.1:{port + 1}/metrics", BEARER)
    wait_for(lambda: parsing.has("tradewind_dag_processing_import_errors", 1), timeout=60,
               what="the child's import error gauge", details=deployment.dump_logs)
    scheduling = Scraper(f"http://127.0.0.1:{port}/metrics", BEARER)
    assert scheduling.has("tradewind_scheduler_heartbeat_total")
    assert "tradewind_dag_processing" not in scheduling.text  # each process serves what it saw itself


def _start_webserver(deployment: Deployment) -> str:
    port = free_port()
    deployment.start("webserver", "--port", str(port), log_name="webserver")
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        # /health answers as soon as the server listens, /metrics once the rest of its routes are loaded.
        try:
            return httpx.get(f"{base}/metrics", timeout=2).status_code == 401
        except httpx.TransportError:
            return False

    wait_for(up, timeout=60, what="the webserver with all its routes", details=deployment.dump_logs)
    return base


@ON_SQLITE_ONLY
def test_the_webservers_metrics_need_a_login_or_the_token(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__METRICS__TOKEN"] = TOKEN
    deployment.tw("users", "create", "--username", "ann", "--role", "viewer", "--password", "ann-password-1")
    deployment.write_dag("measured", MIXED)
    deployment.parse()
    base = _start_webserver(deployment)
    url = f"{base}/metrics"
    anonymous = httpx.get(url, headers={"Accept": "text/plain"})
    assert anonymous.status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers=BEARER).status_code == 200
    assert httpx.get(url, auth=("ann", "ann-password-1")).status_code == 200

    # Request latency by route template: the DAG id is a path parameter, never a label value.
    assert httpx.get(f"{base}/api/v1/dags/measured", auth=("ann", "ann-password-1")).status_code == 200
    scrape = Scraper(url, BEARER)
    assert scrape.has(
        "tradewind_http_request_duration_seconds_count", method="GET", route="/api/v1/dags/{dag_id}", status="200"
    ), scrape.text
    assert scrape.has("tradewind_http_request_duration_seconds_count", route="/metrics", status="401")
    assert "/api/v1/dags/measured" not in scrape.text


@ON_SQLITE_ONLY
def test_standalone_serves_every_service_on_the_web_port(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__METRICS__TOKEN"] = TOKEN
    deployment.env["TRADEWIND__CORE__LOAD_EXAMPLES"] = "false"
    deployment.env["TRADEWIND__TRIGGERER__HEARTBEAT_INTERVAL"] = "1"
    deployment.write_dag("measured", MIXED)
    port = free_port()
    deployment.start("standalone", "--port", str(port), log_name="standalone")
    scrape = Scraper(f"http://127.0.0.1:{port}/metrics", BEARER)
    wait_for(lambda: scrape.has("tradewind_scheduler_heartbeat_total"), timeout=90, what="standalone up",
               details=deployment.dump_logs)
    wait_for(lambda: scrape.has("tradewind_triggerer_heartbeat_total"), timeout=30, what="the triggerer's",
               details=lambda: scrape.text)
    wait_for(lambda: deployment.tw("dags", "list", "-o", "json", check=False).stdout.count("measured") > 0,
               timeout=60, what="the DAG parsed")
    run_id = deployment.tw("dags", "trigger", "measured").stdout.strip()
    assert deployment.wait_run("measured", run_id) == "failed"
    wait_for(lambda: scrape.has("tradewind_ti_finish_total", dag_id="measured", task_id="ok", state="success"),
               timeout=30, what="the try counted", details=lambda: scrape.text)
    assert scrape.has("tradewind_http_request_duration_seconds_count", route="/metrics")

