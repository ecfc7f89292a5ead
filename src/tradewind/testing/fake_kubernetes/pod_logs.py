"""``pods/{name}/log``: a container's output, with follow, tailLines, timestamps, sinceSeconds, limitBytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.responses import PlainTextResponse, Response, StreamingResponse

from tradewind.testing.fake_kubernetes.statuses import ApiError
from tradewind.testing.fake_kubernetes.store import ObjectStore
from tradewind.testing.node_logs import LogLine, container_log_path, parse_line, parse_timestamp

FOLLOW_POLL_SECONDS = 0.05


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "false").lower() in ("true", "1")


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"invalid {name}: {value!r} is not an integer") from None


def _container_state(pod: dict[str, Any], container: str) -> dict[str, Any]:
    status_doc = pod.get("status") or {}
    for status in [*(status_doc.get("containerStatuses") or []), *(status_doc.get("initContainerStatuses") or [])]:
        if status.get("name") == container:
            return status.get("state") or {}
    return {}


async def pod_log_response(
    store: ObjectStore, log_dir: Path, namespace: str, name: str, params: Mapping[str, str]
) -> Response:
    pod = store.get("pods", namespace, name)
    containers = [c["name"] for c in pod["spec"]["containers"]]
    init_containers = [c["name"] for c in pod["spec"].get("initContainers") or []]
    container = params.get("container") or ""
    if not container:
        if len(containers) != 1:
            raise ApiError(400, f"a container name must be specified for pod {name}, choose one of: "
                           f"[{' '.join(containers)}]")
        container = containers[0]
    if container not in containers and container not in init_containers:
        raise ApiError(400, f"container {container} is not valid for pod {name}")
    if _flag(params, "previous"):
        raise ApiError(400, f'previous terminated container "{container}" in pod "{name}" not found')
    uid = pod["metadata"]["uid"]
    path = container_log_path(log_dir, namespace, name, uid, container)
    state = _container_state(pod, container)
    if not path.exists():
        waiting = state.get("waiting") or ({} if state else {"reason": "ContainerCreating"})
        if waiting:
            raise ApiError(400, f'container "{container}" in pod "{name}" is waiting to start: '
                           f"{waiting.get('reason', 'ContainerCreating')}")
    options = _Options(
        timestamps=_flag(params, "timestamps"),
        tail=_int(params, "tailLines"),
        limit=_int(params, "limitBytes"),
        since=_since(params),
    )
    if not _flag(params, "follow"):
        lines, _offset = _read(path, 0)
        return PlainTextResponse(options.render(lines, first_chunk=True))
    return StreamingResponse(
        _follow(store, path, namespace, name, uid, container, options), media_type="text/plain"
    )


def _since(params: Mapping[str, str]) -> datetime | None:
    seconds = _int(params, "sinceSeconds")
    if seconds is not None:
        return datetime.now(UTC) - timedelta(seconds=seconds)
    if params.get("sinceTime"):
        return parse_timestamp(params["sinceTime"])
    return None


class _Options:
    def __init__(self, *, timestamps: bool, tail: int | None, limit: int | None, since: datetime | None) -> None:
        self.timestamps = timestamps
        self.tail = tail
        self.limit = limit
        self.since = since
        self.sent = 0

    def render(self, lines: list[LogLine], *, first_chunk: bool) -> str:
        lines = [line for line in lines if line.after(self.since)]
        if first_chunk and self.tail is not None:
            lines = lines[-self.tail:] if self.tail > 0 else []
        text = "".join(line.render(timestamps=self.timestamps) for line in lines)
        if self.limit is not None:
            text = text[: max(0, self.limit - self.sent)]
        self.sent += len(text)
        return text

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.sent >= self.limit


def _read(path: Path, offset: int) -> tuple[list[LogLine], int]:
    """Complete lines from ``offset`` on, and the offset after the last complete line."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    lines = [parse_line(raw) for raw in data[: end + 1].decode("utf-8", errors="replace").splitlines()]
    return [line for line in lines if line is not None], offset + end + 1


async def _follow(
    store: ObjectStore, path: Path, namespace: str, name: str, uid: str, container: str, options: _Options
) -> AsyncIterator[bytes]:
    offset, first = 0, True
    while True:
        lines, offset = _read(path, offset)
        text = options.render(lines, first_chunk=first)
        first = False
        if text:
            yield text.encode()
        if options.exhausted:
            return
        pod = store.find("pods", namespace, name)
        if pod is None or pod["metadata"]["uid"] != uid:
            return
        if "terminated" in _container_state(pod, container):
            lines, offset = _read(path, offset)  # what was written between our read and the exit
            text = options.render(lines, first_chunk=False)
            if text:
                yield text.encode()
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)
