"""PodApi: the few CoreV1Api calls the executor makes, in and out as plain Kubernetes JSON dicts.

Responses are read raw (``_preload_content=False``) and decoded with ``json``: no client models are built
for the hundreds of pod events a busy executor sees, and fields newer than the client survive.
"""

from __future__ import annotations

import json
from typing import Any, cast

import urllib3
from kubernetes.client import CoreV1Api

Obj = dict[str, Any]


def _raw(response: object) -> urllib3.HTTPResponse:
    # With _preload_content=False the client returns the urllib3 response, whatever its annotations say.
    return cast(urllib3.HTTPResponse, response)


def _json(response: object) -> Obj:
    raw = _raw(response)
    try:
        doc = json.loads(raw.data)
    finally:
        raw.release_conn()
    if not isinstance(doc, dict):
        raise ValueError(f"the API server answered with JSON that is not an object: {str(doc)[:200]}")
    return doc


class PodApi:
    def __init__(self, core: CoreV1Api) -> None:
        self.core = core

    def close(self) -> None:
        self.core.api_client.close()

    def list_pods(self, namespace: str, label_selector: str) -> tuple[list[Obj], str]:
        doc = _json(self.core.list_namespaced_pod(
            namespace, label_selector=label_selector, _preload_content=False, _request_timeout=(10, 60)))
        return list(doc.get("items") or []), str(doc["metadata"]["resourceVersion"])

    def watch_pods(self, namespace: str, label_selector: str, resource_version: str,
                   timeout_seconds: int) -> urllib3.HTTPResponse:
        return _raw(self.core.list_namespaced_pod(
            namespace,
            label_selector=label_selector,
            watch=True,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=True,
            _preload_content=False,
            # A read timeout past the server's own end of the watch catches a silently dead connection.
            _request_timeout=(10, timeout_seconds + 15),
        ))

    def create_pod(self, namespace: str, pod: Obj) -> Obj:
        return _json(self.core.create_namespaced_pod(
            namespace, cast(Any, pod), _preload_content=False, _request_timeout=(10, 60)))

    def read_pod(self, namespace: str, name: str) -> Obj:
        return _json(self.core.read_namespaced_pod(name, namespace, _preload_content=False, _request_timeout=(10, 60)))

    def patch_pod(self, namespace: str, name: str, patch: Obj) -> Obj:
        return _json(self.core.patch_namespaced_pod(
            name, namespace, cast(Any, patch), _preload_content=False, _request_timeout=(10, 60)))

    def delete_pod(self, namespace: str, name: str, *, uid: str | None = None,
                   grace_period_seconds: int | None = None) -> None:
        options: Obj = {}
        if uid:
            options["preconditions"] = {"uid": uid}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        _raw(self.core.delete_namespaced_pod(
            name, namespace, body=cast(Any, options or None), _preload_content=False, _request_timeout=(10, 60),
        )).release_conn()

    def create_secret(self, namespace: str, secret: Obj) -> Obj:
        return _json(self.core.create_namespaced_secret(
            namespace, cast(Any, secret), _preload_content=False, _request_timeout=(10, 60)))

    def delete_secret(self, namespace: str, name: str) -> None:
        _raw(self.core.delete_namespaced_secret(
            name, namespace, _preload_content=False, _request_timeout=(10, 60))).release_conn()

    def pod_log(self, namespace: str, name: str, container: str) -> str:
        raw = _raw(self.core.read_namespaced_pod_log(
            name, namespace, container=container, timestamps=True, _preload_content=False,
            _request_timeout=(10, 120)))
        try:
            return bytes(raw.data).decode("utf-8", errors="replace")
        finally:
            raw.release_conn()

    def follow_log(self, namespace: str, name: str, container: str) -> urllib3.HTTPResponse:
        return _raw(self.core.read_namespaced_pod_log(
            name, namespace, container=container, follow=True, _preload_content=False))

    def pod_events(self, namespace: str, name: str, uid: str) -> list[Obj]:
        selector = f"involvedObject.name={name},involvedObject.uid={uid}"
        doc = _json(self.core.list_namespaced_event(namespace, field_selector=selector, _preload_content=False,
                                                    _request_timeout=(10, 60)))
        return list(doc.get("items") or [])
