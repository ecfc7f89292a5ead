"""Worker pod output: copied into the try's log file before the pod is deleted, and followed while it runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiException, CoreV1Api

from tradewind.core.keys import TaskTryKey
from tradewind.core.log_paths import log_relative_path
from tradewind.executors.kubernetes.api_client import TRANSIENT_ERRORS, describe, read_json
from tradewind.executors.kubernetes.pod_identity import (
    ADOPTABLE_SELECTOR,
    DAG_LABEL,
    safe_label_value,
    try_key_of,
)
from tradewind.executors.kubernetes.pod_template import BASE_CONTAINER

Obj = dict[str, Any]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def try_log_file(log_folder: Path, key: TaskTryKey) -> Path:
    return log_folder / log_relative_path(key.ti, key.try_number)


def pod_output(api: CoreV1Api, namespace: str, name: str) -> str | None:
    """The base container's log with timestamps; None when there is none (the container never started)."""
    try:
        response = api.read_namespaced_pod_log(
            name, namespace, container=BASE_CONTAINER, timestamps=True, _preload_content=False,
            _request_timeout=(10, 120),
        )
    except ApiException as exc:
        if exc.status in (400, 404):
            return None
        raise
    try:
        return bytes(response.data).decode("utf-8", errors="replace")
    finally:
        response.release_conn()


def pod_events(api: CoreV1Api, pod: Obj) -> list[Obj]:
    meta = pod["metadata"]
    selector = f"involvedObject.name={meta['name']},involvedObject.uid={meta['uid']}"
    try:
        doc = read_json(api.list_namespaced_event(meta["namespace"], field_selector=selector, _preload_content=False))
    except (ApiException, *TRANSIENT_ERRORS):
        return []
    items: list[Obj] = doc.get("items") or []
    return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def archive_pod(api: CoreV1Api, pod: Obj, log_file: Path, *, outcome: str, include_events: bool) -> None:
    """Append the pod's output (each line stamped by the kubelet), its outcome and, for failures, its
    events (what `kubectl describe pod` shows) to the try's log file."""
    meta = pod["metadata"]
    where = f"pod {meta['namespace']}/{meta['name']}"
    try:
        output = pod_output(api, meta["namespace"], meta["name"])
    except (ApiException, *TRANSIENT_ERRORS) as exc:
        output, note = None, f"could not read the output of {where}: {describe(exc)}"
    else:
        note = None
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


def find_worker_pod(api: CoreV1Api, namespace: str, key: TaskTryKey) -> Obj | None:
    """The live pod running a try, if any (for following its log while it runs)."""
    selector = f"{ADOPTABLE_SELECTOR},{DAG_LABEL}={safe_label_value(key.ti.dag_id)},try_number={key.try_number}"
    doc = read_json(api.list_namespaced_pod(namespace, label_selector=selector, _preload_content=False))
    matches = [p for p in doc.get("items") or [] if try_key_of(p) == key]
    matches.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "")
    return matches[-1] if matches else None


def follow_pod_output(api: CoreV1Api, namespace: str, name: str) -> Iterator[str]:
    """Yield the base container's output as it is written, until the container ends."""
    response = api.read_namespaced_pod_log(
        name, namespace, container=BASE_CONTAINER, follow=True, _preload_content=False
    )
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
