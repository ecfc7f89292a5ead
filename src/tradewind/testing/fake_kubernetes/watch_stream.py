"""``?watch=true``: newline-delimited JSON events, resumable by resourceVersion, with 410, bookmarks, timeouts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from tradewind.testing.fake_kubernetes.faults import KUBELET_USER_AGENT, Faults
from tradewind.testing.fake_kubernetes.objects import KINDS
from tradewind.testing.fake_kubernetes.selectors import FieldRequirement, LabelRequirement
from tradewind.testing.fake_kubernetes.statuses import expired
from tradewind.testing.fake_kubernetes.store import CLOSE, DROP, Expired, ObjectStore, Watcher

#: The real API server ends a watch that asked for no timeout after 30-60 minutes.
DEFAULT_WATCH_TIMEOUT = 1800.0


class WatchDropped(Exception):
    """Raised inside a watch stream to break its connection mid-response (an injected fault)."""


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return (json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n").encode()


async def _single(event_type: str, obj: dict[str, Any]) -> AsyncIterator[bytes]:
    yield _line(event_type, obj)


def watch_response(
    *,
    store: ObjectStore,
    faults: Faults,
    resource: str,
    namespace: str | None,
    labels: list[LabelRequirement],
    fields: list[FieldRequirement],
    resource_version: str | None,
    timeout_seconds: float | None,
    bookmarks: bool,
    bookmark_interval: float,
    user_agent: str,
) -> StreamingResponse:
    if not user_agent.startswith(KUBELET_USER_AGENT):
        failure = faults.watch_failure()
        if failure is not None:
            raise failure
        if faults.watch_expired():
            rv = store.resource_version
            return _stream(_single("ERROR", expired(int(resource_version or 0), rv)))
    watcher = Watcher(
        resource=resource,
        namespace=namespace,
        labels=labels,
        fields=fields,
        loop=asyncio.get_running_loop(),
        queue=asyncio.Queue(),
        client=user_agent,
    )
    try:
        backlog = store.subscribe(watcher, resource_version)
    except Expired as exc:
        return _stream(_single("ERROR", expired(exc.requested, exc.oldest)))
    timeout = timeout_seconds if timeout_seconds and timeout_seconds > 0 else DEFAULT_WATCH_TIMEOUT
    kind = resource
    return _stream(_events(store, watcher, backlog, timeout, bookmarks, bookmark_interval, kind))


async def _events(
    store: ObjectStore,
    watcher: Watcher,
    backlog: list[tuple[str, dict[str, Any]]],
    timeout: float,
    bookmarks: bool,
    bookmark_interval: float,
    kind: str,
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        for event_type, obj in backlog:
            yield _line(event_type, obj)
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            wait = min(remaining, bookmark_interval) if bookmarks else remaining
            try:
                item = await asyncio.wait_for(watcher.queue.get(), wait)
            except TimeoutError:
                if bookmarks and deadline - loop.time() > 0:
                    yield _line("BOOKMARK", _bookmark(kind, store.resource_version))
                continue
            if item == CLOSE:
                return
            if item == DROP:
                raise WatchDropped("watch connection dropped by an injected fault")
            yield _line(*item)
    finally:
        store.unsubscribe(watcher)


def _bookmark(resource: str, rv: int) -> dict[str, Any]:
    return {"kind": KINDS[resource].kind, "apiVersion": "v1", "metadata": {"resourceVersion": str(rv)}}


def _stream(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="application/json", headers={"Cache-Control": "no-cache"})
