"""The core/v1 REST surface: list, watch, get, create, replace, patch, delete, and the pod subresources."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tradewind.testing.fake_kubernetes.faults import POD_FAULT_ANNOTATION, Faults
from tradewind.testing.fake_kubernetes.objects import KINDS, check_pod_spec_update, now_rfc3339
from tradewind.testing.fake_kubernetes.patches import PatchError, apply_patch
from tradewind.testing.fake_kubernetes.pod_logs import pod_log_response
from tradewind.testing.fake_kubernetes.selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from tradewind.testing.fake_kubernetes.statuses import ApiError, status_object
from tradewind.testing.fake_kubernetes.store import ObjectStore
from tradewind.testing.fake_kubernetes.watch_stream import watch_response

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """What a request path names: a collection, an object, or an object's subresource."""

    resource: str
    namespace: str | None
    name: str | None = None
    subresource: str | None = None


def parse_path(path: str) -> Target:
    parts = [p for p in path.split("/") if p]
    namespace = None
    if len(parts) >= 3 and parts[0] == "namespaces" and parts[2] in KINDS and KINDS[parts[2]].namespaced:
        namespace, parts = parts[1], parts[2:]
    if (
        not parts
        or parts[0] not in KINDS
        or len(parts) > 3
        or (namespace is None and KINDS[parts[0]].namespaced and len(parts) > 1)
    ):
        raise ApiError(404, "the server could not find the requested resource")
    name = parts[1] if len(parts) > 1 else None
    subresource = parts[2] if len(parts) > 2 else None
    return Target(parts[0], namespace, name, subresource)


class ApiHandlers:
    def __init__(self, store: ObjectStore, faults: Faults, log_dir: Path, bookmark_interval: float) -> None:
        self.store = store
        self.faults = faults
        self.log_dir = log_dir
        self.bookmark_interval = bookmark_interval

    async def dispatch(self, request: Request) -> Response:
        try:
            path = request.path_params["path"]
            params = dict(request.query_params)
            if path.startswith("watch/"):
                path, params["watch"] = path[len("watch/"):], "true"
            target = parse_path(path)
            return await self._route(request, target, params)
        except ApiError as exc:
            return JSONResponse(exc.status, status_code=exc.code, headers=exc.headers)
        except SelectorError as exc:
            return JSONResponse(status_object(400, str(exc)), status_code=400)
        except PatchError as exc:
            return JSONResponse(status_object(exc.code, str(exc)), status_code=exc.code)

    async def _route(self, request: Request, t: Target, params: dict[str, str]) -> Response:
        kind = KINDS[t.resource]
        method = request.method
        if t.name is None:
            if method == "GET":
                return self._list_or_watch(request, t, params)
            if method == "POST":
                return self._create(t, await _body(request))
            if method == "DELETE":
                return self._delete_collection(t, params)
        elif t.subresource is None:
            if method == "GET":
                return _json(self.store.get(t.resource, t.namespace, t.name))
            if method == "PUT":
                return self._replace(t, await _body(request), status_only=False)
            if method == "PATCH":
                return self._patch(t, await _body(request), request.headers.get("content-type", ""), False)
            if method == "DELETE":
                return self._delete(t, params, await _body(request, optional=True))
        elif t.subresource == "status":
            if method == "GET":
                return _json(self.store.get(t.resource, t.namespace, t.name))
            if method == "PUT":
                return self._replace(t, await _body(request), status_only=True)
            if method == "PATCH":
                return self._patch(t, await _body(request), request.headers.get("content-type", ""), True)
        elif t.subresource == "log" and t.resource == "pods" and method == "GET":
            assert t.namespace is not None
            return await pod_log_response(self.store, self.log_dir, t.namespace, t.name, params)
        elif t.subresource == "binding" and t.resource == "pods" and method == "POST":
            return self._bind(t, await _body(request))
        else:
            raise ApiError(404, "the server could not find the requested resource")
        raise ApiError(405, f"the server does not allow this method on the requested resource ({kind.kind})")

    # -- collection ---------------------------------------------------------------------------------
    def _list_or_watch(self, request: Request, t: Target, params: dict[str, str]) -> Response:
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"), t.resource)
        if params.get("watch", "").lower() in ("true", "1"):
            return watch_response(
                store=self.store,
                faults=self.faults,
                resource=t.resource,
                namespace=t.namespace,
                labels=labels,
                fields=fields,
                resource_version=params.get("resourceVersion"),
                timeout_seconds=float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None,
                bookmarks=params.get("allowWatchBookmarks", "").lower() == "true",
                bookmark_interval=self.bookmark_interval,
                user_agent=request.headers.get("user-agent", ""),
            )
        items, rv = self.store.list_objects(t.resource, t.namespace, labels, fields)
        meta: Obj = {"resourceVersion": str(rv)}
        start = 0
        if params.get("continue"):
            token = _decode_continue(params["continue"])
            start, meta["resourceVersion"] = token["start"], str(token["rv"])
        limit = int(params["limit"]) if params.get("limit") else 0
        page = items[start:start + limit] if limit > 0 else items[start:]
        if limit > 0 and start + limit < len(items):
            meta["continue"] = _encode_continue(start + limit, int(meta["resourceVersion"]))
            meta["remainingItemCount"] = len(items) - start - limit
        kind = KINDS[t.resource].kind
        return _json({"kind": f"{kind}List", "apiVersion": "v1", "metadata": meta, "items": page})

    def _create(self, t: Target, body: Obj) -> Response:
        if t.resource == "pods":
            name = (body.get("metadata") or {}).get("name") or (body.get("metadata") or {}).get(
                "generateName", ""
            )
            failure = self.faults.create_failure("pods", name)
            if failure is not None:
                raise failure
            self._admit_pod(t, body)
        created = self.store.create(t.resource, t.namespace, body)
        if t.resource == "namespaces":
            self.store.create("serviceaccounts", created["metadata"]["name"], {"metadata": {"name": "default"}})
        return _json(created, 201)

    def _admit_pod(self, t: Target, pod: Obj) -> None:
        """What admission plugins do: reject a missing service account, add injected faults."""
        spec = pod.get("spec") or {}
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if t.namespace and self.store.find("namespaces", None, t.namespace) is not None \
                and self.store.find("serviceaccounts", t.namespace, account) is None:
            name = (pod.get("metadata") or {}).get("name", "")
            raise ApiError(403, f'pods "{name}" is forbidden: error looking up service account '
                           f"{t.namespace}/{account}: serviceaccount \"{account}\" not found")
        meta = pod.setdefault("metadata", {})
        fault = self.faults.fault_for_new_pod(meta.get("labels"))
        if fault is not None:
            meta.setdefault("annotations", {})[POD_FAULT_ANNOTATION] = str(fault)

    def _delete_collection(self, t: Target, params: dict[str, str]) -> Response:
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"), t.resource)
        grace = int(params["gracePeriodSeconds"]) if params.get("gracePeriodSeconds") else None
        items, _rv = self.store.list_objects(t.resource, t.namespace, labels, fields)
        for item in items:
            meta = item["metadata"]
            try:
                self.store.delete(t.resource, meta.get("namespace"), meta["name"], grace=grace)
            except ApiError:
                continue  # gone meanwhile
        return _json(status_object(200, "", reason=""))

    # -- one object ---------------------------------------------------------------------------------
    def _replace(self, t: Target, body: Obj, *, status_only: bool) -> Response:
        assert t.name is not None
        if (body.get("metadata") or {}).get("name", t.name) != t.name:
            raise ApiError(400, "the name of the object does not match the name on the URL")
        expected = (body.get("metadata") or {}).get("resourceVersion")
        return _json(self.store.update(
            t.resource, t.namespace, t.name, lambda old: _merge_update(t, old, body, status_only),
            expected_rv=expected,
        ))

    def _patch(self, t: Target, patch: Any, content_type: str, status_only: bool) -> Response:
        assert t.name is not None

        def change(old: Obj) -> Obj:
            patched = apply_patch(old, patch, content_type)
            return _merge_update(t, old, patched, status_only)

        expected = patch.get("metadata", {}).get("resourceVersion") if isinstance(patch, dict) else None
        return _json(self.store.update(t.resource, t.namespace, t.name, change, expected_rv=expected))

    def _delete(self, t: Target, params: dict[str, str], options: Obj | None) -> Response:
        assert t.name is not None
        options = options or {}
        grace_text = params.get("gracePeriodSeconds")
        grace = int(grace_text) if grace_text else options.get("gracePeriodSeconds")
        obj = self.store.delete(
            t.resource, t.namespace, t.name, grace=grace, preconditions=options.get("preconditions")
        )
        if t.resource == "pods":
            return _json(obj)
        details = {"name": t.name, "kind": t.resource, "uid": obj["metadata"]["uid"]}
        return _json(status_object(200, "", reason="", details=details))

    def _bind(self, t: Target, binding: Obj) -> Response:
        assert t.name is not None
        node = (binding.get("target") or {}).get("name")
        if not node:
            raise ApiError(400, "a binding needs target.name")

        def change(pod: Obj) -> Obj:
            if pod["spec"].get("nodeName"):
                raise ApiError(409, f"pod {t.name} is already assigned to node \"{pod['spec']['nodeName']}\"")
            pod["spec"]["nodeName"] = node
            _set_condition(pod, {"type": "PodScheduled", "status": "True"})
            return pod

        self.store.update("pods", t.namespace, t.name, change)
        return _json(status_object(201, "", reason=""), 201)


def _merge_update(t: Target, old: Obj, new: Obj, status_only: bool) -> Obj:
    """Status updates change only status; main-resource updates never change status, and leave a pod's
    spec alone but for the few mutable fields."""
    if status_only:
        result = copy.deepcopy(old)
        result["status"] = copy.deepcopy(new.get("status") or {})
        return result
    result = copy.deepcopy(new)
    if "status" in old:
        result["status"] = copy.deepcopy(old["status"])
    if t.resource == "pods":
        check_pod_spec_update(old, result)
    return result


def _set_condition(pod: Obj, condition: Obj) -> None:
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    condition = {"lastProbeTime": None, "lastTransitionTime": now_rfc3339(), **condition}
    for i, existing in enumerate(conditions):
        if existing.get("type") == condition["type"]:
            conditions[i] = condition
            return
    conditions.append(condition)


async def _body(request: Request, *, optional: bool = False) -> Any:
    content_type = request.headers.get("content-type", "")
    if "protobuf" in content_type or "cbor" in content_type:
        # A real API server decodes these too; clients (kubectl 1.33+) retry with JSON on 415.
        raise ApiError(415, f"the fake API server reads JSON bodies only, not {content_type}")
    raw = await request.body()
    if not raw:
        if optional:
            return None
        raise ApiError(400, "the request needs a body")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None


def _json(body: Obj, code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=code)


def _encode_continue(start: int, rv: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"start": start, "rv": rv}).encode()).decode()


def _decode_continue(token: str) -> dict[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return {"start": int(data["start"]), "rv": int(data["rv"])}
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, f"invalid continue token {token!r}") from None
