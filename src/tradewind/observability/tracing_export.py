"""The span exporter's failure policy: a collector that is down loses spans and says so once, never more."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger("tradewind.traces")

#: The OTLP/HTTP path of traces under the collector's base URL.
TRACES_PATH = "/v1/traces"


def traces_url(endpoint: str) -> str:
    """``[traces] otlp_endpoint`` (a base URL) with the traces path appended, unless it is there already."""
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def shown_url(url: str) -> str:
    """The URL without user, password, query or fragment: what a log line may say about the collector."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class OneWarningExporter(SpanExporter):
    """Wraps the OTLP exporter: the first failed export of an outage logs one warning (without the headers,
    which may hold an API key); later failures are counted at debug level; a success re-arms the warning.
    The SDK exporter's own error lines (one per batch and retry) are silenced."""

    def __init__(self, inner: SpanExporter, url: str) -> None:
        self._inner = inner
        self._url = shown_url(url)
        self._failing = False
        self.lost = 0
        logging.getLogger("opentelemetry.exporter").setLevel(logging.CRITICAL)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception as exc:  # an exporter bug must not kill the batch thread
            log.debug("traces: export raised %r", exc)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            if self._failing:
                log.info("traces: the collector at %s takes spans again", self._url)
            self._failing = False
            return result
        self.lost += len(spans)
        if not self._failing:
            log.warning(
                "traces: the collector at %s ([traces] otlp_endpoint) did not take a batch of %d spans; spans "
                "are dropped until it does, scheduling and tasks go on",
                self._url,
                len(spans),
            )
        else:
            log.debug("traces: %d more spans dropped (%d in all)", len(spans), self.lost)
        self._failing = True
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)
