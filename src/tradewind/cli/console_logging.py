"""Logging for long-running commands: timestamped lines on stderr, or JSON lines (``[logging] log_format``)."""

from __future__ import annotations

from tradewind.observability.service_logs import LogFormat, configure_service_logging


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    configure_service_logging(level, log_format)
