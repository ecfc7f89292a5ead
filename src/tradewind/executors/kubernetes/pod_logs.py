"""Worker pod output: copied into the try's log file before the pod is deleted, and followed while it runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiException

from tradewind.core.keys import TaskTryKey
from tradewind.core.log_paths import task_log_path
from tradewind.executors.kubernetes.api_client import API_ERRORS, describe
from tradewind.executors.kubernetes.pod_api import PodApi
from tradewind.executors.kubernetes.pod_identity import (
    ADOPTABLE_SELECTOR,
    DAG_LABEL,
    TRY_LABEL,
    safe_label_value,
    try_key_of,
)
from tradewind.executors.kubernetes.pod_template import BASE_CONTAINER

Obj = dict[str, Any]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def try_log_file(log_folder: Path, key: TaskTryKey) -> Path:
    return task_log_path(log_folder, key.ti, key.try_number)


def pod_output(api: PodApi, namespace: str, name: str) -> str | None:
    """The base container's log with timestamps; None when there is none (the container never started)."""
    try:
        return api.pod_log(namespace, name, BASE_CONTAINER)
    except ApiException as exc:
        if exc.status in (400, 404):
            return None
        raise


def pod_events(api: PodApi, pod: Obj) -> list[Obj]:
    meta = pod["metadata"]
    try:
        items = api.pod_events(meta["namespace"], meta["name"], meta["uid"])
    except API_ERRORS:
        return []
    return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def archive_pod(api: PodApi, pod: Obj, log_file: Path, *, outcome: str, include_events: bool) -> None:
    """Append the pod's output (each line stamped by the kubelet), its outcome and, for failures, its
    events (what `kubectl describe pod` shows) to the try's log file."""
    meta = pod["metadata"]
    where = f"pod {meta['namespace']}/{meta['name']}"
    output: str | None = None
    note: str | None = None
    try:
        output = pod_output(api, meta["namespace"], meta["name"])
    except API_ERRORS as exc:
        note = f"could not read the output of {where}: {describe(exc)}"
    lines = [f"{_stamp()} [kubernetes] --- output of {where} (container {BASE_CONTAINER}) ---\n"]
    if output:
        lines.append(output if output.endswith("\n") else output + "\n")
    else:
        lines.append(f"{_stamp()} [kubernetes] {note or 'no output: the container never started'}\n")
    lines.append(f"{_stamp()} [kubernetes] --- end of output of {where}; {outcome} ---\n")
    if include_events:
        for event in pod_events(api, pod):
            stamp = event.get("lastTimestamp") or event.get("eventTime") or _stamp()
            lines.append(f"{stamp} [kubernetes] event {event.get('type', '')} {event.get('reason', '')}: "
                         f"{event.get('message', '')}\n")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as out:
        out.writelines(lines)


def find_worker_pod(api: PodApi, namespace: str, key: TaskTryKey) -> Obj | None:
    """The live pod running a try, if any (for following its log while it runs)."""
    selector = f"{ADOPTABLE_SELECTOR},{DAG_LABEL}={safe_label_value(key.ti.dag_id)},{TRY_LABEL}={key.try_number}"
    pods, _rv = api.list_pods(namespace, selector)
    matches = [p for p in pods if try_key_of(p) == key]
    matches.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "")
    return matches[-1] if matches else None


def follow_pod_output(api: PodApi, namespace: str, name: str) -> Iterator[str]:
    """Yield the base container's output line by line as it is written, until the container ends."""
    response = api.follow_log(namespace, name, BASE_CONTAINER)
    try:
        buffer = b""
        for chunk in response.stream(4096):
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line.decode("utf-8", errors="replace") + "\n"
        if buffer:
            yield buffer.decode("utf-8", errors="replace")
    finally:
        with contextlib.suppress(Exception):
            response.release_conn()
