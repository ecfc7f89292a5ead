"""OpenTelemetry implementation of ``Tracing``: spans with ids from keys, exported over OTLP/HTTP in batches.

Imported only by ``open_tracing`` when ``[traces] otel_on`` is true (the ``otel`` extra). Export happens on
the SDK's batch thread: a slow or dead collector never blocks a scheduler tick or a task, it only loses spans.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
    set_span_in_context,
)

from tradewind.config.settings import Settings
from tradewind.core.keys import TaskTryKey
from tradewind.observability.tracing import AttributeValue, RunRecord, TryRecord
from tradewind.observability.tracing_export import OneWarningExporter, traces_url
from tradewind.observability.tracing_ids import run_span_id, trace_id, try_span_id

log = logging.getLogger(__name__)

#: Seconds one export request (with the exporter's retries) may take, on the batch thread.
EXPORT_TIMEOUT = 5.0
#: States that mark a span as an error.
_ERROR_STATES = frozenset({"failed", "upstream_failed", "up_for_retry"})
#: Launch times kept for tries whose run has not ended yet; beyond this the oldest are forgotten.
_MAX_LAUNCHES = 100_000


class _ChosenIds(IdGenerator):
    """Random ids, except for the span started inside ``choose``: it gets the ids derived from its keys."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()
        self._local = threading.local()

    @contextmanager
    def choose(self, trace: int | None, span: int) -> Iterator[None]:
        self._local.trace, self._local.span = trace, span
        try:
            yield
        finally:
            self._local.trace = self._local.span = None

    def generate_span_id(self) -> int:
        chosen: int | None = getattr(self._local, "span", None)
        self._local.span = None
        return chosen if chosen is not None else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        chosen: int | None = getattr(self._local, "trace", None)
        self._local.trace = None
        return chosen if chosen is not None else self._random.generate_trace_id()


class OtelTracing:
    """Builds spans with an SDK tracer provider of its own (the process's global provider is left alone)."""

    def __init__(self, provider: TracerProvider, ids: _ChosenIds, *, hostname: str) -> None:
        self._provider = provider
        self._ids = ids
        self._tracer: Tracer = provider.get_tracer("tradewind")
        self._hostname = hostname
        self._launched: dict[TaskTryKey, int] = {}
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, component: str) -> OtelTracing:
        cfg = settings.traces
        hostname = settings.core.hostname or socket.gethostname()
        url = traces_url(cfg.otlp_endpoint)
        exporter = OTLPSpanExporter(
            endpoint=url,
            # Empty in a runner: a task's settings have their secrets blanked (config/task_settings.py).
            headers={name: value.get_secret_value() for name, value in cfg.otlp_headers.items()},
            timeout=EXPORT_TIMEOUT,
        )
        resource = Resource.create(
            {
                "service.name": cfg.otel_service,
                "host.name": hostname,
                "process.pid": os.getpid(),
                "tradewind.component": component,
            }
        )
        ids = _ChosenIds()
        provider = TracerProvider(resource=resource, id_generator=ids, shutdown_on_exit=False)
        provider.add_span_processor(
            BatchSpanProcessor(OneWarningExporter(exporter, url), schedule_delay_millis=1000)
        )
        return cls(provider, ids, hostname=hostname)

    @property
    def enabled(self) -> bool:
        return True

    # -- the scheduler: a finished run and its tries, from the database --------------------------------
    def record_run(self, run: RunRecord, tries: Sequence[TryRecord]) -> None:
        try:
            self._record_run(run, tries)
        except Exception:  # tracing must never fail scheduling
            log.warning(
                "traces: could not record the spans of run %s of %s", run.run_id, run.dag_id, exc_info=True
            )

    def _record_run(self, run: RunRecord, tries: Sequence[TryRecord]) -> None:
        started = run.start_date or run.queued_at
        ended = run.end_date or started
        attributes: dict[str, AttributeValue] = {
            "dag_id": run.dag_id,
            "run_id": run.run_id,
            "run_type": run.run_type,
            "state": run.state,
        }
        with self._ids.choose(trace_id(run.dag_id, run.run_id), run_span_id(run.dag_id, run.run_id, started)):
            span = self._tracer.start_span(
                f"dag_run {run.dag_id}", context=Context(), attributes=attributes, start_time=_ns(started)
            )
        if run.queued_at is not None:
            span.add_event("queued", timestamp=_ns(run.queued_at))
        if run.state in _ERROR_STATES:
            span.set_status(Status(StatusCode.ERROR, f"the run ended {run.state}"))
        parent = set_span_in_context(span)
        for record in tries:
            self._record_try(record, parent, run_end=ended)
        span.end(end_time=_ns(ended))
        with self._lock:
            for record in tries:
                self._launched.pop(record.key, None)

    def _record_try(self, record: TryRecord, parent: Context, *, run_end: datetime | None) -> None:
        with self._lock:
            launched = self._launched.get(record.key)
        queued = _ns(record.queued_at) if record.queued_at is not None else launched
        start = _ns(record.start_date) if record.start_date is not None else None
        begin = queued if queued is not None else start
        end = _ns(record.end_date or run_end)
        attributes = _try_attributes(record.key)
        attributes["state"] = record.state or "none"
        attributes["executor"] = record.executor or ""
        attributes["hostname"] = record.hostname or ""
        with self._ids.choose(None, try_span_id(record.key)):
            span = self._tracer.start_span(
                f"task_try {record.key.ti.task_id}", context=parent, attributes=attributes, start_time=begin
            )
        if record.state in _ERROR_STATES:
            span.set_status(Status(StatusCode.ERROR, record.state_reason or f"the try ended {record.state}"))
        if queued is not None:
            queued_span = self._tracer.start_span(
                "queued",
                context=set_span_in_context(span),
                attributes=_try_attributes(record.key),
                start_time=queued,
            )
            queued_span.end(end_time=start if start is not None else end)
        if end is not None and begin is not None:
            end = max(end, begin)  # a try that ended as it was queued (failed by the scheduler)
        span.end(end_time=end)

    # -- live phases: the scheduler's hand-over, the runner's running and finishing ---------------------
    def launch(
        self, key: TaskTryKey, executor: str
    ) -> AbstractContextManager[MutableMapping[str, AttributeValue]]:
        with self._lock:
            if len(self._launched) >= _MAX_LAUNCHES:
                self._launched.pop(next(iter(self._launched)))
            self._launched[key] = time.time_ns()
        return self._phase(key, "launch", {"executor": executor})

    def phase(
        self, key: TaskTryKey, name: str
    ) -> AbstractContextManager[MutableMapping[str, AttributeValue]]:
        return self._phase(key, name, {})

    @contextmanager
    def _phase(
        self, key: TaskTryKey, name: str, extra: dict[str, AttributeValue]
    ) -> Iterator[MutableMapping[str, AttributeValue]]:
        parent = SpanContext(
            trace_id=trace_id(key.ti.dag_id, key.ti.run_id),
            span_id=try_span_id(key),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        attributes = {**_try_attributes(key), "hostname": self._hostname, **extra}
        span: Span = self._tracer.start_span(
            name, context=set_span_in_context(NonRecordingSpan(parent)), attributes=attributes
        )
        notes: dict[str, AttributeValue] = {}
        try:
            yield notes
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            span.set_attributes(notes)
            if notes.get("state") in _ERROR_STATES:
                span.set_status(Status(StatusCode.ERROR, f"the try ended {notes['state']}"))
            span.end()

    def close(self, timeout: float) -> None:
        """Flush on a helper thread and wait for it at most ``timeout`` seconds: a dead collector costs a
        stopping process no more than that (what is still unsent is lost)."""
        if self._closed:
            return
        self._closed = True
        flusher = threading.Thread(target=self._provider.shutdown, name="traces-flush", daemon=True)
        flusher.start()
        flusher.join(timeout)


def _try_attributes(key: TaskTryKey) -> dict[str, AttributeValue]:
    return {
        "dag_id": key.ti.dag_id,
        "run_id": key.ti.run_id,
        "task_id": key.ti.task_id,
        "map_index": key.ti.map_index,
        "try_number": key.try_number,
    }


def _ns(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store's times are UTC
    return int(moment.timestamp() * 1_000_000_000)
