"""The kubelet's view of the API server: a few REST calls over HTTP, like a real kubelet's client."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx

from tradewind.testing.fake_kubernetes.faults import KUBELET_USER_AGENT
from tradewind.testing.fake_kubernetes.objects import now_rfc3339

Obj = dict[str, Any]


class ApiStatusError(Exception):
    def __init__(self, code: int, body: Any) -> None:
        message = body.get("message", "") if isinstance(body, dict) else str(body)
        super().__init__(f"{code}: {message}")
        self.code = code
        self.body = body


class KubeletApi:
    """One per thread: httpx clients are cheap, and this keeps connection pools unshared."""

    def __init__(self, base_url: str, node_name: str) -> None:
        self.node_name = node_name
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": f"{KUBELET_USER_AGENT}/{node_name}"},
            timeout=30.0,
            transport=httpx.HTTPTransport(retries=3),
        )

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A real kubelet rides out a busy API server: requests that fail in transport are tried again
        (every call the kubelet makes is safe to repeat)."""
        for attempt in range(4):
            try:
                return self._client.request(method, url, **kwargs)
            except httpx.TransportError:
                if attempt == 3:
                    raise
                time.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._client.close()

    def _check(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise ApiStatusError(response.status_code, body)
        return body

    def list_pods(self) -> tuple[list[Obj], str]:
        body = self._check(self._request("GET", "/api/v1/pods"))
        return body["items"], body["metadata"]["resourceVersion"]

    def watch_pods(self, resource_version: str, timeout_seconds: int) -> Iterator[tuple[str, Obj]]:
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout_seconds),
            "allowWatchBookmarks": "true",
        }
        timeout = httpx.Timeout(10.0, read=timeout_seconds + 30.0)
        with self._client.stream("GET", "/api/v1/pods", params=params, timeout=timeout) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response)
            for line in response.iter_lines():
                if line.strip():
                    event = json.loads(line)
                    yield event["type"], event["object"]

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        response = self._request("GET", f"/api/v1/namespaces/{namespace}/{resource}/{name}")
        if response.status_code == 404:
            return None
        result: Obj = self._check(response)
        return result

    def create(self, resource: str, namespace: str | None, body: Obj) -> Obj:
        path = f"/api/v1/namespaces/{namespace}/{resource}" if namespace else f"/api/v1/{resource}"
        result: Obj = self._check(self._request("POST", path, json=body))
        return result

    def bind(self, namespace: str, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name}}
        self._check(self._request("POST", f"/api/v1/namespaces/{namespace}/pods/{name}/binding", json=body))

    def patch_status(self, namespace: str, name: str, status: Obj) -> Obj | None:
        """Replace the pod's status (merge patch of a whole status). None when the pod is gone."""
        response = self._request(
            "PATCH", f"/api/v1/namespaces/{namespace}/pods/{name}/status",
            content=json.dumps({"status": status}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        if response.status_code == 404:
            return None
        result: Obj = self._check(response)
        return result

    def delete_pod_now(self, namespace: str, name: str, uid: str) -> None:
        """The kubelet's final delete, once the containers are gone: grace 0, only this very pod."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                "preconditions": {"uid": uid}}
        response = self._request(
            "DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code not in (404, 409):
            self._check(response)

    def record_event(self, pod: Obj, event_type: str, reason: str, message: str, component: str = "kubelet") -> None:
        meta = pod["metadata"]
        stamp = now_rfc3339()
        body = {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": meta["namespace"]},
            "involvedObject": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
                               "uid": meta["uid"], "apiVersion": "v1", "fieldPath": "spec.containers{base}"},
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": component, "host": self.node_name},
            "reportingComponent": component,
            "reportingInstance": self.node_name,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        # Like a real kubelet's, an event that cannot be recorded is dropped.
        with contextlib.suppress(ApiStatusError, httpx.HTTPError):
            self._check(self._request("POST", f"/api/v1/namespaces/{meta['namespace']}/events", json=body))
