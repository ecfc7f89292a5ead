"""The kinds the fake serves, and what the API server does to an object on write: names, defaults, checks."""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradewind.testing.fake_kubernetes.selectors import valid_label_key, valid_label_value
from tradewind.testing.fake_kubernetes.statuses import ApiError, invalid


@dataclass(frozen=True, slots=True)
class Kind:
    resource: str
    kind: str
    namespaced: bool
    name_rule: str = "subdomain"  # "subdomain" (253) or "label" (63)


KINDS: dict[str, Kind] = {
    k.resource: k
    for k in (
        Kind("pods", "Pod", True),
        Kind("secrets", "Secret", True),
        Kind("configmaps", "ConfigMap", True),
        Kind("events", "Event", True),
        Kind("serviceaccounts", "ServiceAccount", True),
        Kind("namespaces", "Namespace", False, name_rule="label"),
        Kind("nodes", "Node", False),
    )
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: The alphabet the API server draws generateName suffixes from (no vowels: no accidental words).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_LABEL_VALUE_HELP = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generated_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))


def name_problem(kind: Kind, name: str) -> str | None:
    if kind.name_rule == "label":
        if len(name) > 63 or not _DNS_LABEL.match(name):
            return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " \
                "and must start and end with an alphanumeric character (max 63 characters)"
        return None
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or " \
            "'.', and must start and end with an alphanumeric character (max 253 characters)"
    return None


def stamp_new(kind: Kind, obj: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    """Fill what the API server fills on create: kind, name from generateName, uid, creationTimestamp."""
    meta = obj.setdefault("metadata", {})
    if not meta.get("name"):
        if not meta.get("generateName"):
            raise ApiError(400, "name or generateName is required", reason="BadRequest")
        meta["name"] = generated_name(meta["generateName"])
    if kind.namespaced:
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise ApiError(
                400, "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    obj["kind"] = kind.kind
    obj["apiVersion"] = "v1"
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now_rfc3339()
    for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink"):
        meta.pop(key, None)
    validate(kind, obj)
    _DEFAULTERS.get(kind.resource, lambda o: None)(obj)
    return obj


def validate(kind: Kind, obj: dict[str, Any]) -> None:
    meta = obj.get("metadata", {})
    name = meta.get("name", "")
    causes: list[tuple[str, str]] = []
    if problem := name_problem(kind, name):
        causes.append(("metadata.name", f'Invalid value: "{name}": {problem}'))
    for key, value in (meta.get("labels") or {}).items():
        if not valid_label_key(key):
            causes.append(("metadata.labels", f'Invalid value: "{key}": name part must be a valid label key'))
        if not isinstance(value, str) or not valid_label_value(value):
            causes.append(("metadata.labels", f'Invalid value: "{value}": {_LABEL_VALUE_HELP}'))
    for key, value in (meta.get("annotations") or {}).items():
        if not valid_label_key(key):
            causes.append(("metadata.annotations", f'Invalid value: "{key}": name part must be a valid key'))
        if not isinstance(value, str):
            causes.append(("metadata.annotations", f"Invalid value: {key}: annotation values are strings"))
    if sum(len(k) + len(str(v)) for k, v in (meta.get("annotations") or {}).items()) > 256 * 1024:
        causes.append(("metadata.annotations", "Too long: must have at most 262144 bytes"))
    if kind.resource == "pods":
        causes += _pod_problems(obj)
    if causes:
        raise invalid(kind.kind, name, causes)


def _pod_problems(pod: dict[str, Any]) -> list[tuple[str, str]]:
    spec = pod.get("spec") or {}
    containers = spec.get("containers") or []
    if not containers:
        return [("spec.containers", "Required value")]
    causes = []
    seen: set[str] = set()
    for i, container in enumerate(containers):
        cname = container.get("name", "")
        if not _DNS_LABEL.match(cname or "") or len(cname) > 63:
            causes.append((f"spec.containers[{i}].name", f'Invalid value: "{cname}": must be a DNS label'))
        if cname in seen:
            causes.append((f"spec.containers[{i}].name", f'Duplicate value: "{cname}"'))
        seen.add(cname)
        if not container.get("image"):
            causes.append((f"spec.containers[{i}].image", "Required value"))
    volume_names = {v.get("name") for v in spec.get("volumes") or []}
    for i, container in enumerate(containers):
        for j, mount in enumerate(container.get("volumeMounts") or []):
            if mount.get("name") not in volume_names:
                causes.append(
                    (f"spec.containers[{i}].volumeMounts[{j}].name", f'Not found: "{mount.get("name")}"')
                )
    if spec.get("restartPolicy", "Always") not in ("Always", "OnFailure", "Never"):
        causes.append(("spec.restartPolicy", f'Unsupported value: "{spec.get("restartPolicy")}"'))
    return causes


def _default_pod(pod: dict[str, Any]) -> None:
    spec = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    for container in spec.get("containers", []):
        image = container.get("image", "")
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        container.setdefault("imagePullPolicy", "Always" if tag in ("", "latest") else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
    pod["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}


def _qos_class(spec: dict[str, Any]) -> str:
    resources = [c.get("resources") or {} for c in spec.get("containers", [])]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get(res) and r.get("requests", r.get("limits", {})).get(res) == r["limits"][res]
        for r in resources
        for res in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _default_secret(secret: dict[str, Any]) -> None:
    secret.setdefault("type", "Opaque")
    string_data = secret.pop("stringData", None) or {}
    data = secret.setdefault("data", {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()
    for key, value in data.items():
        try:
            base64.b64decode(value, validate=True)
        except (ValueError, TypeError):
            raise invalid("Secret", secret["metadata"]["name"], [(f"data[{key}]", "Invalid value: not base64")]) from None


def _default_namespace(namespace: dict[str, Any]) -> None:
    namespace.setdefault("spec", {"finalizers": ["kubernetes"]})
    namespace["status"] = {"phase": "Active"}


def _default_event(event: dict[str, Any]) -> None:
    stamp = now_rfc3339()
    event.setdefault("firstTimestamp", stamp)
    event.setdefault("lastTimestamp", stamp)
    event.setdefault("count", 1)
    event.setdefault("type", "Normal")


_DEFAULTERS = {
    "pods": _default_pod,
    "secrets": _default_secret,
    "namespaces": _default_namespace,
    "events": _default_event,
}

#: Pod spec fields an update may change (everything else in a pod's spec is immutable).
_MUTABLE_POD_SPEC = ("activeDeadlineSeconds", "tolerations")


def check_pod_spec_update(old: dict[str, Any], new: dict[str, Any]) -> None:
    def comparable(spec: dict[str, Any]) -> dict[str, Any]:
        spec = {k: v for k, v in spec.items() if k not in _MUTABLE_POD_SPEC}
        spec["containers"] = [{k: v for k, v in c.items() if k != "image"} for c in spec.get("containers", [])]
        return spec

    if comparable(old.get("spec") or {}) != comparable(new.get("spec") or {}):
        raise invalid(
            "Pod",
            old["metadata"]["name"],
            [("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
              "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)")],
        )


def decode_secret_value(secret: dict[str, Any], key: str) -> str | None:
    raw = (secret.get("data") or {}).get(key)
    return None if raw is None else base64.b64decode(raw).decode()
