"""The traces interface the services call: a DAG run's trace and its tries' spans, and live phases of a try.

A process builds one ``Tracing`` with ``open_tracing(settings, component)`` in ``main()`` (or the runner's
``run_task``) and closes it when it stops. With ``[traces] otel_on`` false (the default) it is
``NO_TRACING``: every call returns at once and nothing imports OpenTelemetry, so a service that does not
trace pays nothing at start or on its hot path.

Spans of one DAG run are linked across processes without carrying anything in the workload: the trace id and
the span ids of the run and of each try are derived from their keys (observability/tracing_ids.py,
docs/adr/0010-trace-ids-from-keys.md), so the scheduler, the executor and the runner (a forked process, a
Celery worker or a pod, with no database) each name the same parent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tradewind.config.settings import Settings
from tradewind.core.keys import TaskTryKey
from tradewind.sdk.errors import ConfigError

log = logging.getLogger(__name__)

#: An attribute value a span can carry.
AttributeValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A finished DAG run as the database holds it: the run span's times and state."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None


@dataclass(frozen=True, slots=True)
class TryRecord:
    """One try of a task instance of that run: the try span and its queued phase."""

    key: TaskTryKey
    state: str | None
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    hostname: str | None
    executor: str | None
    state_reason: str | None = None


class Tracing(Protocol):
    """What services call. Implementations never raise into the caller and never block it on export."""

    @property
    def enabled(self) -> bool: ...

    def record_run(self, run: RunRecord, tries: Sequence[TryRecord]) -> None:
        """Emit the run span (from its start to its end, with its state) and a span per try under it, each
        with a ``queued`` child span, all with the times the database recorded."""

    def launch(
        self, key: TaskTryKey, executor: str
    ) -> AbstractContextManager[MutableMapping[str, AttributeValue]]:
        """A ``launch`` span under the try's span for the block that hands the try to the executor."""

    def phase(
        self, key: TaskTryKey, name: str
    ) -> AbstractContextManager[MutableMapping[str, AttributeValue]]:
        """A span named ``name`` under the try's span for the block (``running``, ``finishing``); attributes
        set on the yielded mapping (``state``) are added when the block ends."""

    def close(self, timeout: float) -> None:
        """Export what is buffered, waiting at most ``timeout`` seconds, and stop."""


class _NoTracing:
    """Tracing switched off: nothing recorded, nothing imported."""

    @property
    def enabled(self) -> bool:
        return False

    def record_run(self, run: RunRecord, tries: Sequence[TryRecord]) -> None:
        return None

    def launch(
        self, key: TaskTryKey, executor: str
    ) -> AbstractContextManager[MutableMapping[str, AttributeValue]]:
        return _no_span()

    def phase(
        self, key: TaskTryKey, name: str
    ) -> AbstractContextManager[MutableMapping[str, AttributeValue]]:
        return _no_span()

    def close(self, timeout: float) -> None:
        return None


@contextmanager
def _no_span() -> Iterator[MutableMapping[str, AttributeValue]]:
    yield {}


#: The tracing of a process that does not trace (tests, `dags test`, short CLI commands, otel_on false).
NO_TRACING: Tracing = _NoTracing()


def open_tracing(settings: Settings, component: str, *, required: bool = True) -> Tracing:
    """The process's tracing: ``NO_TRACING`` unless ``[traces] otel_on``. ``component`` (scheduler, runner)
    names the process in the exported resource. Without the ``otel`` extra installed: a ``ConfigError``,
    or, when not ``required`` (a runner, which must not fail its task over traces), a warning and no tracing.
    """
    if not settings.traces.otel_on:
        return NO_TRACING
    try:
        # OpenTelemetry is an optional dependency and costs start-up time: only a tracing process imports it.
        from tradewind.observability.tracing_otel import OtelTracing
    except ImportError as exc:
        message = f"[traces] otel_on is true but OpenTelemetry is not installed ({exc}): pip install 'tradewind[otel]'"
        if required:
            raise ConfigError(message, key="traces.otel_on") from exc
        log.warning("traces: %s; this %s sends no spans", message, component)
        return NO_TRACING
    return OtelTracing.from_settings(settings, component)
