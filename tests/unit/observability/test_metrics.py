"""The metrics interface: catalog keys and labels, the Prometheus and StatsD exporters, the no-op default."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tradewind.config.settings import Settings
from tradewind.observability.metrics import NO_METRICS, Metrics, UnknownMetricError
from tradewind.observability.metrics_catalog import BY_KEY, CATALOG
from tradewind.observability.metrics_prometheus import PrometheusExporter
from tradewind.observability.metrics_setup import build_metrics
from tradewind.observability.metrics_statsd import statsd_name


def _sample(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_start!r} in:\n{text}")


def test_counters_gauges_and_timers_reach_the_prometheus_text() -> None:
    exporter = PrometheusExporter()
    metrics = Metrics([exporter])
    metrics.incr("ti.finish", dag_id="etl", task_id="load", state="success")
    metrics.incr("ti.finish", dag_id="etl", task_id="load", state="success")
    metrics.gauge("pool.open_slots", 7, pool_name="default_pool")
    metrics.timing("task.duration", 3.0, dag_id="etl", task_id="load")
    text = exporter.render().decode()
    assert _sample(text, 'tradewind_ti_finish_total{dag_id="etl",state="success",task_id="load"}') == 2
    assert _sample(text, 'tradewind_pool_open_slots{pool_name="default_pool"}') == 7
    assert _sample(text, 'tradewind_task_duration_seconds_count{dag_id="etl",task_id="load"}') == 1
    assert _sample(text, 'tradewind_task_duration_seconds_sum{dag_id="etl",task_id="load"}') == 3.0


def test_each_exporter_has_its_own_registry_and_shows_only_what_it_recorded() -> None:
    first, second = PrometheusExporter(), PrometheusExporter()
    Metrics([first]).incr("scheduler_heartbeat")
    assert "tradewind_scheduler_heartbeat_total 1.0" in first.render().decode()
    assert "tradewind_scheduler_heartbeat" not in second.render().decode()


def test_timer_records_a_block_that_raises() -> None:
    exporter = PrometheusExporter()
    metrics = Metrics([exporter])
    with pytest.raises(RuntimeError), metrics.timer("scheduler.scheduler_loop_duration"):
        raise RuntimeError("boom")
    assert _sample(exporter.render().decode(), "tradewind_scheduler_scheduler_loop_duration_seconds_count") == 1


def test_unknown_keys_wrong_kinds_and_wrong_labels_are_refused() -> None:
    metrics = Metrics([PrometheusExporter()])
    with pytest.raises(UnknownMetricError, match="not_a_metric"):
        metrics.incr("not_a_metric")
    with pytest.raises(UnknownMetricError, match="gauge"):
        metrics.gauge("ti.finish", 1, dag_id="d", task_id="t", state="success")
    with pytest.raises(UnknownMetricError, match="labels"):
        metrics.incr("ti.finish", dag_id="d", task_id="t")


def test_nothing_on_is_a_no_op() -> None:
    assert not NO_METRICS.enabled
    NO_METRICS.incr("ti.finish", dag_id="d", task_id="t", state="success")
    with NO_METRICS.timer("scheduler.scheduler_loop_duration"):
        pass


def test_settings_choose_the_exporters(settings: Settings) -> None:
    off = settings.model_copy(update={"metrics": settings.metrics.model_copy(update={"prometheus_on": False})})
    setup = build_metrics(off)
    assert setup.prometheus is None and setup.statsd is None and not setup.metrics.enabled
    on = build_metrics(settings)
    assert on.prometheus is not None and on.statsd is None and on.metrics.enabled


def test_statsd_names_are_airflows_with_the_labels_filled_in() -> None:
    finish = BY_KEY["ti.finish"]
    assert statsd_name(finish, {"dag_id": "etl", "task_id": "load", "state": "failed"}) == "ti.finish.etl.load.failed"
    duration = BY_KEY["task.duration"]
    assert statsd_name(duration, {"dag_id": "a.b", "task_id": "g/t"}) == "dag.a_b.g_t.duration"
    assert statsd_name(BY_KEY["scheduler_heartbeat"], {}) == "scheduler_heartbeat"


def test_every_statsd_template_uses_only_its_labels() -> None:
    for spec in CATALOG:
        statsd_name(spec, dict.fromkeys(spec.labels, "x"))  # raises KeyError on a stray placeholder


@pytest.fixture
def udp_receiver() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    try:
        yield sock
    finally:
        sock.close()


def _received(sock: socket.socket, count: int) -> list[str]:
    lines: list[str] = []
    while len(lines) < count:
        lines.extend(sock.recv(4096).decode().splitlines())
    return lines


def test_statsd_sends_prefixed_lines_to_a_real_udp_socket(settings: Settings, udp_receiver: socket.socket) -> None:
    port = udp_receiver.getsockname()[1]
    cfg = settings.metrics.model_copy(
        update={"prometheus_on": False, "statsd_on": True, "statsd_port": port, "statsd_prefix": "airflow"}
    )
    setup = build_metrics(settings.model_copy(update={"metrics": cfg}))
    try:
        setup.metrics.incr("ti.finish", dag_id="etl", task_id="load", state="success")
        setup.metrics.gauge("executor.open_slots", 3, executor="local")
        setup.metrics.timing("task.duration", 1.5, dag_id="etl", task_id="load")
        lines = _received(udp_receiver, 3)
    finally:
        setup.close()
    assert "airflow.ti.finish.etl.load.success:1|c" in lines
    assert "airflow.executor.open_slots:3|g" in lines
    assert any(line.startswith("airflow.dag.etl.load.duration:1500") and line.endswith("|ms") for line in lines)


def test_both_exporters_at_once(settings: Settings, udp_receiver: socket.socket) -> None:
    cfg = settings.metrics.model_copy(update={"statsd_on": True, "statsd_port": udp_receiver.getsockname()[1]})
    setup = build_metrics(settings.model_copy(update={"metrics": cfg}))
    try:
        setup.metrics.incr("scheduler_heartbeat")
        assert _received(udp_receiver, 1) == ["tradewind.scheduler_heartbeat:1|c"]
    finally:
        setup.close()
    assert setup.prometheus is not None
    assert "tradewind_scheduler_heartbeat_total 1.0" in setup.prometheus.render().decode()
