"""Service logs on stderr: timestamped text lines, or one JSON object per line for log collectors.

``[logging] log_format = "json"`` gives every record as ``{"timestamp", "level", "logger", "message",
"process", "thread"}`` plus ``"exception"`` when it carries a traceback, the task and run keys when the record
names a try (a ``TaskTryKey`` / ``TaskInstanceKey`` among its arguments, or ``extra={"dag_id": ...}``), and
any other ``extra`` fields, values under secret-looking names masked. Written with the standard library: a
formatter of some fifty lines is cheaper than a dependency, and it controls exactly which fields go out.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.redaction import redact

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
#: The keys of a task try, in the order a JSON line gives them.
TRY_FIELDS = ("dag_id", "run_id", "task_id", "map_index", "try_number")
#: What every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colour codes
}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record, on one line (tracebacks included, as a string field)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        line.update(_try_fields(record))
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and name not in line and not name.startswith("_"):
                line[name] = redact(value, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _try_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The task and run keys a record names: set with ``extra=``, or a key object among its arguments."""
    fields = {name: getattr(record, name) for name in TRY_FIELDS if hasattr(record, name)}
    args = record.args if isinstance(record.args, tuple) else ()
    for arg in args:
        if isinstance(arg, TaskTryKey):
            fields.setdefault("try_number", arg.try_number)
            arg = arg.ti
        if isinstance(arg, TaskInstanceKey):
            for name in ("dag_id", "run_id", "task_id", "map_index"):
                fields.setdefault(name, getattr(arg, name))
            break
    return fields


def service_log_handler(log_format: LogFormat) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_service_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Make the root logger write to stderr in ``log_format``, replacing any handler it had."""
    root = logging.getLogger()
    root.handlers[:] = [service_log_handler(log_format)]
    root.setLevel(level)
    # Python warnings (a library's DeprecationWarning, Celery's SecurityWarning) are lines on stderr too.
    logging.captureWarnings(log_format == "json")
    # Alembic announces its context on every schema check; that is noise in a service's log.
    logging.getLogger("alembic").setLevel(logging.WARNING)
