"""Container log files on the fake node, in the CRI format real kubelets write (`TIMESTAMP STREAM F TEXT`).

The process kubelet writes them; the fake API server reads them to serve ``pods/log``, the way a real API
server reaches the kubelet's log files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def pod_log_dir(log_dir: Path, namespace: str, pod: str, uid: str) -> Path:
    return log_dir / f"{namespace}_{pod}_{uid}"


def container_log_path(log_dir: Path, namespace: str, pod: str, uid: str, container: str) -> Path:
    return pod_log_dir(log_dir, namespace, pod, uid) / f"{container}.log"


def remove_pod_logs(log_dir: Path, namespace: str, pod: str, uid: str) -> None:
    shutil.rmtree(pod_log_dir(log_dir, namespace, pod, uid), ignore_errors=True)


def timestamp_now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"


def format_line(stream: str, text: str, timestamp: str | None = None) -> str:
    """One CRI log line; ``text`` without its newline (``P`` marks a partial line, ``F`` a full one)."""
    return f"{timestamp or timestamp_now()} {stream} F {text}\n"


@dataclass(frozen=True, slots=True)
class LogLine:
    timestamp: str
    stream: str
    text: str

    def render(self, *, timestamps: bool) -> str:
        return f"{self.timestamp} {self.text}\n" if timestamps else f"{self.text}\n"

    def after(self, since: datetime | None) -> bool:
        if since is None:
            return True
        return parse_timestamp(self.timestamp) >= since


def parse_line(raw: str) -> LogLine | None:
    parts = raw.rstrip("\n").split(" ", 3)
    if len(parts) < 3:
        return None
    text = parts[3] if len(parts) == 4 else ""
    return LogLine(parts[0], parts[1], text)


def parse_timestamp(value: str) -> datetime:
    # Python's fromisoformat takes at most microseconds: drop the nanosecond digits.
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")
