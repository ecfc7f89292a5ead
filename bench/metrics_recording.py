"""What recording a metric costs the caller (the scheduler's hot path): microseconds per call with nothing on,
with Prometheus, and with Prometheus and StatsD, for series seen before and for new ones.

    .venv/bin/python bench/metrics_recording.py [--calls N]

A try costs the scheduler four records (ti.start, ti.finish, task.duration, task.queued_duration).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from statsd import StatsClient

from tradewind.observability.metrics import NO_METRICS, Metrics
from tradewind.observability.metrics_prometheus import PrometheusExporter
from tradewind.observability.metrics_statsd import StatsdExporter


def per_record_us(metrics: Metrics, calls: int, *, new_series: bool) -> float:
    started = time.perf_counter()
    for i in range(calls):
        task_id = f"t{i}" if new_series else f"t{i % 200}"
        metrics.incr("ti.finish", dag_id="bench_fanout_200", task_id=task_id, state="success")
        metrics.timing("task.duration", 0.5, dag_id="bench_fanout_200", task_id=task_id)
    return (time.perf_counter() - started) / calls / 2 * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    statsd = StatsdExporter(StatsClient("127.0.0.1", 9))  # the discard port: sends go nowhere
    try:
        for new_series in (False, True):
            figures = {
                "nothing_on_us": per_record_us(NO_METRICS, args.calls, new_series=new_series),
                "prometheus_us": per_record_us(Metrics([PrometheusExporter()]), args.calls, new_series=new_series),
                "both_us": per_record_us(Metrics([PrometheusExporter(), statsd]), args.calls, new_series=new_series),
            }
            print(json.dumps({"series": "new" if new_series else "seen", **{k: round(v, 2) for k, v in figures.items()}}))
    finally:
        statsd.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
