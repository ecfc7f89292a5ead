"""Trace and span ids derived from a DAG run's and a try's keys, so every process names the same spans."""

from __future__ import annotations

import hashlib
from datetime import datetime

from tradewind.core.keys import TaskTryKey


def _digest(*parts: object) -> bytes:
    # NUL cannot occur in ids, so distinct keys never join into the same text.
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).digest()


def _nonzero(value: int) -> int:
    """W3C trace context forbids an all-zero id; a hash hits it with probability 2**-64 or less."""
    return value or 1


def trace_id(dag_id: str, run_id: str) -> int:
    """The 128-bit trace id of a DAG run: one trace per run."""
    return _nonzero(int.from_bytes(_digest("trace", dag_id, run_id)[:16], "big"))


def run_span_id(dag_id: str, run_id: str, started: datetime | None) -> int:
    """The 64-bit id of the run's own span, the root of its trace. A run cleared and run again is another
    span in the same trace: its start tells them apart."""
    moment = started.isoformat() if started is not None else ""
    return _nonzero(int.from_bytes(_digest("run", dag_id, run_id, moment)[:8], "big"))


def try_span_id(key: TaskTryKey) -> int:
    """The 64-bit id of a try's span, the parent of its phases in every process."""
    ti = key.ti
    return _nonzero(
        int.from_bytes(
            _digest("try", ti.dag_id, ti.run_id, ti.task_id, ti.map_index, key.try_number)[:8], "big"
        )
    )
