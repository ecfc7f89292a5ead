"""Worker pod output: copied into the try's log file before the pod is deleted, and followed while it runs."""

from __future__ import annotations

import contextlib
import re
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
from tradewind.executors.kubernetes.pod_outcome import read_pod
from tradewind.executors.kubernetes.pod_template import BASE_CONTAINER

Obj = dict[str, Any]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def try_log_file(log_folder: Path, key: TaskTryKey) -> Path:
    return task_log_path(log_folder, key.ti, key.try_number)


class PodGone(Exception):
    """The pod was deleted before its output could be read."""


def pod_output(api: PodApi, namespace: str, name: str) -> str | None:
    """The base container's log with timestamps; None when there is none (the container has not started,
    or the pod is gone)."""
    try:
        return _container_log(api, namespace, name)
    except PodGone:
        return None


def _container_log(api: PodApi, namespace: str, name: str) -> str | None:
    """Like ``pod_output``, but raises PodGone on 404 (the archive says so rather than "never started")."""
    try:
        return api.pod_log(namespace, name, BASE_CONTAINER)
    except ApiException as exc:
        if exc.status == 404:
            raise PodGone(f"pod {namespace}/{name}") from exc
        if exc.status == 400:
            return None
        raise


#: A line that starts with its own timestamp (the runner stamps every line of a try's log).
_STAMPED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")


def _one_stamp(output: str) -> list[str]:
    """The container log's lines with one timestamp each: the runner's where it stamped the line (task output
    and its own lines, echoed by ``[logging] task_output_to_stdout``), else the kubelet's."""
    lines = []
    for line in output.splitlines():
        _kubelet_stamp, _, rest = line.partition(" ")
        lines.append((rest if _STAMPED.match(rest) else line) + "\n")
    return lines


def pod_events(api: PodApi, pod: Obj) -> list[Obj]:
    meta = pod["metadata"]
    try:
        items = api.pod_events(meta["namespace"], meta["name"], meta["uid"])
    except API_ERRORS:
        return []
    return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def _output_lines(api: PodApi, pod: Obj, where: str) -> list[str]:
    """The container's output, or one line saying why there is none."""
    meta = pod["metadata"]
    try:
        output = _container_log(api, meta["namespace"], meta["name"])
    except PodGone:
        return [f"{_stamp()} [kubernetes] no output: the pod was gone before its output could be read\n"]
    except API_ERRORS as exc:
        return [f"{_stamp()} [kubernetes] could not read the output of {where}: {describe(exc)}\n"]
    if output:
        return _one_stamp(output)
    if output is None or read_pod(pod).never_started:
        return [f"{_stamp()} [kubernetes] no output: the container never started\n"]
    return [f"{_stamp()} [kubernetes] no output: the container ran and wrote nothing\n"]


def archive_pod(
    api: PodApi, pod: Obj, log_file: Path, *, outcome: str, include_events: bool, shared_log_volume: bool = False
) -> None:
    """Append the pod's output, its outcome and, for failures, its events (what `kubectl describe pod`
    shows) to the try's log file.

    ``shared_log_volume`` (``[kubernetes] logs_volume_claim`` set): the pod's runner wrote the try's lines
    into this same file through the shared volume, so its output is not copied a second time; only the
    outcome (and the events) are appended.
    """
    meta = pod["metadata"]
    where = f"pod {meta['namespace']}/{meta['name']}"
    if shared_log_volume:
        held = "no output: the container never started" if read_pod(pod).never_started else \
            "its output is above, written through the shared logs volume"
        lines = [f"{_stamp()} [kubernetes] --- output of {where} (container {BASE_CONTAINER}): {held}; {outcome} ---\n"]
    else:
        lines = [f"{_stamp()} [kubernetes] --- output of {where} (container {BASE_CONTAINER}) ---\n",
                 *_output_lines(api, pod, where),
                 f"{_stamp()} [kubernetes] --- end of output of {where}; {outcome} ---\n"]
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
