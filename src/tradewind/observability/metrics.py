"""The metrics interface the services call: counters, gauges and timers by catalog key and labels.

A service is handed one ``Metrics`` built in ``main()`` / ``create_app()`` (observability/metrics_setup.py)
and calls e.g. ``metrics.incr("ti.finish", dag_id=..., task_id=..., state=...)``. With no exporter on, every
call returns at once: recording sits on the scheduler's hot path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from tradewind.observability.metrics_catalog import BY_KEY, MetricKind, MetricSpec
from tradewind.sdk.errors import TradewindError


class UnknownMetricError(TradewindError):
    """A key that is not in observability/metrics_catalog.py, or used as the wrong kind."""


class MetricsSink(Protocol):
    """An exporter: receives each observation with its spec and its labels as strings."""

    def incr(self, spec: MetricSpec, value: float, labels: dict[str, str]) -> None: ...

    def gauge(self, spec: MetricSpec, value: float, labels: dict[str, str]) -> None: ...

    def timing(self, spec: MetricSpec, seconds: float, labels: dict[str, str]) -> None: ...


class Metrics:
    """Records to every exporter it was built with; a no-op with none."""

    def __init__(self, sinks: Sequence[MetricsSink] = ()) -> None:
        self._sinks = tuple(sinks)

    @property
    def enabled(self) -> bool:
        return bool(self._sinks)

    def incr(self, key: str, value: float = 1, /, **labels: object) -> None:
        if not self._sinks:
            return
        spec, strings = _resolve(key, MetricKind.COUNTER, labels)
        for sink in self._sinks:
            sink.incr(spec, value, strings)

    def gauge(self, key: str, value: float, /, **labels: object) -> None:
        if not self._sinks:
            return
        spec, strings = _resolve(key, MetricKind.GAUGE, labels)
        for sink in self._sinks:
            sink.gauge(spec, value, strings)

    def timing(self, key: str, seconds: float, /, **labels: object) -> None:
        if not self._sinks:
            return
        spec, strings = _resolve(key, MetricKind.TIMER, labels)
        for sink in self._sinks:
            sink.timing(spec, max(0.0, seconds), strings)

    @contextmanager
    def timer(self, key: str, /, **labels: object) -> Iterator[None]:
        """Time the block (monotonic clock) and record it as ``key``, also when the block raises."""
        if not self._sinks:
            yield
            return
        started = time.monotonic()
        try:
            yield
        finally:
            self.timing(key, time.monotonic() - started, **labels)


#: The metrics of a component nobody gave an exporter to (tests, `dags test`, short CLI commands).
NO_METRICS = Metrics()


def _resolve(key: str, kind: MetricKind, labels: dict[str, object]) -> tuple[MetricSpec, dict[str, str]]:
    spec = BY_KEY.get(key)
    if spec is None or spec.kind != kind:
        raise UnknownMetricError(f"{key!r} is not a {kind} in observability/metrics_catalog.py")
    if labels.keys() != spec.label_set:
        raise UnknownMetricError(f"metric {key!r} takes the labels {spec.labels}, not {tuple(labels)}")
    return spec, {name: str(value) for name, value in labels.items()}
