"""Tracing: off costs nothing (no OpenTelemetry import), ids come from keys, headers reach the collector and
never a log line, and a collector that is down is reported once."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from tests.integration.scheduler.otlp_collector import OtlpCollector
from tradewind.config.settings import Settings, TracesSettings
from tradewind.config.settings_handoff import settings_from_payload, settings_payload
from tradewind.config.task_settings import settings_for_tasks
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.observability.tracing import NO_TRACING, RunRecord, TryRecord, open_tracing
from tradewind.observability.tracing_ids import run_span_id, trace_id, try_span_id
from tradewind.sdk.errors import ConfigError


def _traced(endpoint: str, **traces: object) -> Settings:
    return Settings(traces=TracesSettings(otel_on=True, otlp_endpoint=endpoint, **traces))


def test_tracing_off_imports_no_opentelemetry() -> None:
    code = (
        "import sys\n"
        "from tradewind.config.settings import Settings\n"
        "import tradewind.scheduler.service, tradewind.runner.run_workload\n"
        "from tradewind.observability.tracing import open_tracing, NO_TRACING\n"
        "assert open_tracing(Settings(), 'scheduler') is NO_TRACING\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter')))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ids_are_derived_from_keys_and_differ_between_runs_and_tries() -> None:
    key = TaskTryKey(TaskInstanceKey("d", "r", "t", -1), 1)
    assert trace_id("d", "r") == trace_id("d", "r") != trace_id("d", "r2")
    assert 0 < trace_id("d", "r") < 2**128 and 0 < run_span_id("d", "r", None) < 2**64
    started = datetime(2026, 1, 1, tzinfo=UTC)
    assert run_span_id("d", "r", started) != run_span_id("d", "r", started + timedelta(hours=1)), "a re-run"
    assert try_span_id(key) != try_span_id(key._replace(try_number=2))
    assert try_span_id(key) != try_span_id(TaskTryKey(TaskInstanceKey("d", "r", "t", 0), 1))
    # "a" + "bc" and "ab" + "c" are different keys
    assert trace_id("a", "bc") != trace_id("ab", "c")


def test_headers_reach_the_collector_and_spans_carry_the_keys() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    key = TaskTryKey(TaskInstanceKey("d", "r", "t", 3), 2)
    with OtlpCollector() as collector:
        tracing = open_tracing(_traced(collector.endpoint, otlp_headers={"x-api-key": "s3cr3t"}), "scheduler")
        with tracing.launch(key, "local"):
            pass
        tracing.record_run(
            RunRecord("d", "r", "failed", "manual", now, now, now + timedelta(seconds=9)),
            [
                TryRecord(
                    key, "failed", now, now + timedelta(seconds=1), now + timedelta(seconds=8), "h", "local"
                )
            ],
        )
        tracing.close(timeout=10)
        spans = {s.name: s for s in collector.snapshot()}
        assert all(h.get("x-api-key") == "s3cr3t" for h in collector.headers) and collector.headers
    run, try_span, queued = spans["dag_run d"], spans["task_try t"], spans["queued"]
    assert int(run.trace_id, 16) == trace_id("d", "r") and int(run.span_id, 16) == run_span_id("d", "r", now)
    assert int(try_span.span_id, 16) == try_span_id(key) and try_span.parent_span_id == run.span_id
    assert try_span.attributes == {
        "dag_id": "d", "run_id": "r", "task_id": "t", "map_index": 3, "try_number": 2,
        "state": "failed", "executor": "local", "hostname": "h",
    }  # fmt: skip
    assert run.status_code == try_span.status_code == 2  # STATUS_CODE_ERROR
    assert queued.parent_span_id == try_span.span_id and queued.end_ns - queued.start_ns == 1_000_000_000
    assert spans["launch"].parent_span_id == try_span.span_id


def test_a_dead_collector_is_reported_once_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://user:pw@127.0.0.1:{port}"
    tracing = open_tracing(_traced(endpoint, otlp_headers={"authorization": "Bearer s3cr3t"}), "runner")
    key = TaskTryKey(TaskInstanceKey("d", "r", "t"), 1)
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):
            with tracing.phase(key, "running"):
                pass
            tracing._provider.force_flush()  # type: ignore[attr-defined]
        tracing.close(timeout=5)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    text = caplog.text
    assert f"127.0.0.1:{port}/v1/traces" in warnings[0].getMessage()
    assert "s3cr3t" not in text and "pw@" not in text


def test_a_runner_without_secrets_still_traces() -> None:
    """A task's settings have their secrets blanked, the exporter's headers among them, and still pass the
    JSON hand-over to a child process (the triggerer's, the execution API's)."""
    with OtlpCollector() as collector:
        settings = settings_for_tasks(_traced(collector.endpoint, otlp_headers={"x-api-key": SecretStr("k")}))
        settings = settings_from_payload(settings_payload(settings))
        assert settings.traces.otlp_headers == {}
        tracing = open_tracing(settings, "runner")
        assert tracing is not NO_TRACING
        with tracing.phase(TaskTryKey(TaskInstanceKey("d", "r", "t"), 1), "running") as notes:
            notes["state"] = "success"
        tracing.close(timeout=10)
        (span,) = collector.snapshot()
    assert span.attributes["state"] == "success" and span.resource["tradewind.component"] == "runner"


def test_without_the_otel_extra_a_service_refuses_to_start_and_a_runner_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "tradewind.observability.tracing_otel", raising=False)
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    settings = _traced("http://127.0.0.1:4318")
    with pytest.raises(ConfigError, match=r"tradewind\[otel\]") as raised:
        open_tracing(settings, "scheduler")
    assert raised.value.key == "traces.otel_on"
    assert open_tracing(settings, "runner", required=False) is NO_TRACING
