"""OpenTelemetry traces end to end: the real scheduler with the LocalExecutor exports one trace per DAG run to an
in-process OTLP/HTTP collector, with the runner's spans (other processes) under the scheduler's try spans; a
collector that is down costs the run nothing."""

from __future__ import annotations

import socket

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import Deployment
from tests.integration.scheduler.otlp_collector import OtlpCollector, ReceivedSpan
from tests.waiting import wait_for

TRACED = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator, PythonOperator

def flaky(ti):
    if ti.try_number < 2:
        raise RuntimeError("first try fails on purpose")

with DAG("traced", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    hello = BashOperator(task_id="hello", bash_command="echo hello")
    retry = PythonOperator(task_id="retry", python_callable=flaky, retries=1, retry_delay=timedelta(seconds=0))
    hello >> retry
"""

TRY_KEYS = {"dag_id", "run_id", "task_id", "map_index", "try_number"}


def _traced_deployment(deployment: Deployment, endpoint: str) -> None:
    deployment.env["TRADEWIND__TRACES__OTEL_ON"] = "true"
    deployment.env["TRADEWIND__TRACES__OTLP_ENDPOINT"] = endpoint
    deployment.env["TRADEWIND__TRACES__OTEL_SERVICE"] = "tw-test"
    deployment.write_dag("traced", TRACED)
    deployment.parse()
    deployment.start_scheduler()


def _named(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.name == name]


def test_one_trace_per_run_with_a_span_per_try_linked_across_processes(deployment: Deployment) -> None:
    with OtlpCollector() as collector:
        _traced_deployment(deployment, collector.endpoint)
        run_id = deployment.tw("dags", "trigger", "traced").stdout.strip()
        assert deployment.wait_run("traced", run_id) == "success", deployment.dump_logs()

        def complete() -> bool:
            spans = collector.snapshot()
            return (
                len(_named(spans, "dag_run traced")) == 1
                and len([s for s in spans if s.name.startswith("task_try ")]) == 3
                and len(_named(spans, "running")) == 3
                and len(_named(spans, "finishing")) == 3
                and len(_named(spans, "launch")) == 3
            )

        wait_for(
            complete, timeout=30, what="the run's spans at the collector", details=deployment.dump_logs
        )
        spans = collector.snapshot()

    (run,) = _named(spans, "dag_run traced")
    assert run.parent_span_id == ""
    assert run.attributes["dag_id"] == "traced" and run.attributes["run_id"] == run_id
    assert run.attributes["state"] == "success"
    assert run.resource["service.name"] == "tw-test"
    assert {s.trace_id for s in spans} == {run.trace_id}, (
        "one trace for the run, whatever process sent a span"
    )

    tries = {
        (s.attributes["task_id"], s.attributes["try_number"]): s
        for s in spans
        if s.name.startswith("task_try ")
    }
    assert set(tries) == {("hello", 1), ("retry", 1), ("retry", 2)}, (
        "a failed and retried task has two try spans"
    )
    assert tries["retry", 1].attributes["state"] == "up_for_retry"
    assert tries["retry", 1].status_code == 2 and tries["retry", 2].status_code != 2  # the failed try is an error
    assert tries["retry", 2].attributes["state"] == "success"
    for try_span in tries.values():
        assert try_span.parent_span_id == run.span_id
        assert TRY_KEYS | {"state", "executor", "hostname"} <= set(try_span.attributes)
        assert try_span.attributes["executor"] == "local" and try_span.attributes["hostname"]
        assert try_span.attributes["map_index"] == -1 and try_span.attributes["run_id"] == run_id
        assert run.start_ns <= try_span.start_ns <= try_span.end_ns <= run.end_ns

    by_id = {s.span_id: s for s in spans}
    scheduler_pid = run.resource["process.pid"]
    for phase in ("running", "finishing"):
        for span in _named(spans, phase):
            parent = by_id[span.parent_span_id]
            key = (span.attributes["task_id"], span.attributes["try_number"])
            assert parent is tries[key], f"the runner's {phase} span hangs under the scheduler's try span"
            assert span.resource["tradewind.component"] == "runner"
            assert span.resource["process.pid"] != scheduler_pid, "sent by the task's own process"
            assert TRY_KEYS | {"hostname"} <= set(span.attributes)
    finishing = {(s.attributes["task_id"], s.attributes["try_number"]): s for s in _named(spans, "finishing")}
    assert finishing["retry", 1].attributes["state"] == "up_for_retry"
    assert finishing["retry", 2].attributes["state"] == "success"
    for launch in _named(spans, "launch"):
        assert by_id[launch.parent_span_id].name.startswith("task_try ")
        assert launch.attributes["executor"] == "local"
    queued = _named(spans, "queued")
    assert queued and all(by_id[s.parent_span_id].name.startswith("task_try ") for s in queued)


@ON_SQLITE_ONLY
def test_a_collector_that_is_down_does_not_fail_the_run(deployment: Deployment) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _traced_deployment(deployment, f"http://127.0.0.1:{port}")
    run_id = deployment.tw("dags", "trigger", "traced").stdout.strip()
    assert deployment.wait_run("traced", run_id) == "success", deployment.dump_logs()
    second = deployment.tw("dags", "trigger", "traced").stdout.strip()
    assert deployment.wait_run("traced", second) == "success", deployment.dump_logs()
    scheduler_log = (deployment.home / "scheduler.log").read_text()
    assert "Traceback" not in scheduler_log, scheduler_log
