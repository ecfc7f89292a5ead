"""JSON service log lines: one object per line, the try's keys from the record, secrets masked."""

from __future__ import annotations

import json
import logging
import sys

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.observability.service_logs import JsonLineFormatter


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("tradewind.test", logging.ERROR, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def _line(record: logging.LogRecord) -> dict[str, object]:
    text = JsonLineFormatter().format(record)
    assert "\n" not in text
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


def test_a_line_has_the_fields_a_collector_indexes() -> None:
    line = _line(_record("hello %s", "world", exc=True))
    assert (
        line["message"] == "hello world" and line["level"] == "ERROR" and line["logger"] == "tradewind.test"
    )
    assert isinstance(line["process"], int) and str(line["timestamp"]).endswith("+00:00")
    assert "ValueError: bad" in str(line["exception"])


def test_the_try_keys_come_from_a_key_among_the_arguments() -> None:
    key = TaskTryKey(TaskInstanceKey("etl", "manual__1", "load", 2), 3)
    line = _line(_record("try %s: died", key))
    assert (line["dag_id"], line["run_id"], line["task_id"], line["map_index"], line["try_number"]) == (
        "etl", "manual__1", "load", 2, 3,
    )  # fmt: skip
    assert _line(_record("run %s", TaskInstanceKey("etl", "r", "t")))["run_id"] == "r"
    assert _line(_record("run", dag_id="from_extra"))["dag_id"] == "from_extra"


def test_extra_fields_under_secret_names_are_masked() -> None:
    line = _line(_record("connecting", password="hunter2", conn={"host": "h", "api_key": "k"}, rows=3))
    assert line["password"] == "***" and line["conn"] == {"host": "h", "api_key": "***"} and line["rows"] == 3
    assert "hunter2" not in json.dumps(line)
