"""The StatsD exporter: Airflow's dotted names, with ``[metrics] statsd_prefix``, over UDP.

Recording only queues a line; a flusher thread sends what was queued every ``flush_interval`` seconds,
packed into few datagrams, so no ``sendto`` sits on the scheduler's hot path.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from typing import Any

from tradewind.observability.metrics_catalog import MetricSpec

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")
#: Seconds between sends: well under a StatsD server's usual 10 s flush.
FLUSH_INTERVAL = 0.5


class StatsdExporter:
    """Queues each observation as a StatsD line (timers in milliseconds) for the flusher thread."""

    def __init__(self, client: Any, *, flush_interval: float = FLUSH_INTERVAL) -> None:
        #: A ``statsd.StatsClient`` (the optional `statsd` package; its prefix already set).
        self._client = client
        self._queue: deque[tuple[str, str, float]] = deque()
        self._stop = threading.Event()
        self._interval = flush_interval
        self._thread = threading.Thread(target=self._flush_loop, name="statsd-flusher", daemon=True)
        self._thread.start()

    def incr(self, spec: MetricSpec, value: float, labels: dict[str, str]) -> None:
        self._queue.append(("incr", statsd_name(spec, labels), value))

    def gauge(self, spec: MetricSpec, value: float, labels: dict[str, str]) -> None:
        self._queue.append(("gauge", statsd_name(spec, labels), value))

    def timing(self, spec: MetricSpec, seconds: float, labels: dict[str, str]) -> None:
        self._queue.append(("timing", statsd_name(spec, labels), seconds * 1000.0))

    def flush(self) -> None:
        if not self._queue:
            return
        pipe = self._client.pipeline()
        while self._queue:
            kind, name, value = self._queue.popleft()
            getattr(pipe, kind)(name, value)
        try:
            pipe.send()
        except OSError as exc:  # a StatsD server that is down must not stop the service
            log.warning("could not send metrics to StatsD: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
        self._client.close()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()


def statsd_name(spec: MetricSpec, labels: dict[str, str]) -> str:
    """The dotted name with the labels filled in; a label value's dots and slashes become ``_`` so it
    stays one segment."""
    if not labels:
        return spec.statsd
    return spec.statsd.format_map({name: _UNSAFE.sub("_", value) for name, value in labels.items()})
