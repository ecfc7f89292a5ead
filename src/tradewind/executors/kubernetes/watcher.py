"""PodWatcher: one thread per namespace that lists worker pods, then watches them from the list's
resourceVersion; resumes after a dropped connection, re-lists after 410 Gone, backs off on errors."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from kubernetes.client import ApiException
from kubernetes.watch.watch import iter_resp_lines

from tradewind.executors.kubernetes.api_client import API_ERRORS, describe
from tradewind.executors.kubernetes.pod_api import PodApi

log = logging.getLogger(__name__)
Obj = dict[str, Any]

PodCallback = Callable[[str, Obj], None]
ListCallback = Callable[[str, list[Obj]], None]


#: What ends a watch in a way worth retrying (ValueError: a line that is not JSON, a cut-off stream).
WATCH_ERRORS: tuple[type[BaseException], ...] = (*API_ERRORS, ValueError)


class WatchExpired(Exception):
    """The resourceVersion we hold is older than the API server's history: list again."""


class PodWatcher:
    def __init__(
        self,
        api: PodApi,
        namespace: str,
        *,
        label_selector: str,
        on_event: PodCallback,
        on_list: ListCallback,
        watch_timeout: int = 60,
        max_backoff: float = 30.0,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.label_selector = label_selector
        self.on_event = on_event
        self.on_list = on_list
        self.watch_timeout = watch_timeout
        self.max_backoff = max_backoff
        self.resource_version: str | None = None
        #: Counters a test or a benchmark can read.
        self.relists = 0
        self.reconnects = 0
        self.streams_opened = 0
        self._stop = threading.Event()
        self._response: Any = None
        self._thread = threading.Thread(target=self._run, name=f"k8s-watch-{namespace}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):
                response.shutdown()  # unblocks the read in the watch thread
        self._thread.join(timeout)

    # -- the loop -----------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            opened = self.streams_opened
            try:
                if self.resource_version is None:
                    self._list()
                self._watch_once()
                backoff = 0.5
            except WatchExpired:
                log.info("watch of namespace %s expired (410); listing again", self.namespace)
                self.resource_version = None
                self.relists += 1
            except WATCH_ERRORS as exc:
                if self._stop.is_set():
                    return
                if self.streams_opened > opened:
                    backoff = 0.5  # the connection had worked: this is a new trouble, start small
                self.reconnects += 1
                delay = backoff * (0.5 + random.random())
                log.warning("watch of namespace %s interrupted (%s); again in %.1fs", self.namespace,
                            describe(exc), delay)
                self._stop.wait(delay)
                backoff = min(backoff * 2, self.max_backoff)

    def _list(self) -> None:
        pods, resource_version = self.api.list_pods(self.namespace, self.label_selector)
        self.on_list(self.namespace, pods)
        self.resource_version = resource_version

    def _watch_once(self) -> None:
        assert self.resource_version is not None
        response = self.api.watch_pods(self.namespace, self.label_selector, self.resource_version,
                                       self.watch_timeout)
        self._response = response
        self.streams_opened += 1
        try:
            for line in iter_resp_lines(response):
                if self._stop.is_set():
                    return
                if line:
                    self._handle(json.loads(line))
        finally:
            self._response = None
            with contextlib.suppress(Exception):
                response.release_conn()

    def _handle(self, event: Obj) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise WatchExpired
            raise ApiException(status=obj.get("code", 500), reason=f"{obj.get('reason')}: {obj.get('message')}")
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self.resource_version = rv
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self.on_event(str(kind), obj)
