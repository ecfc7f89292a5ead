"""A container's environment as a kubelet builds it: env, valueFrom, envFrom, and $(VAR) expansion."""

from __future__ import annotations

import base64
import re
from typing import Any, Protocol

Obj = dict[str, Any]
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_FIELD_WITH_KEY = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ContainerConfigError(Exception):
    """The container cannot be configured yet (kubelet reason CreateContainerConfigError)."""


class ObjectReader(Protocol):
    def get(self, resource: str, namespace: str, name: str) -> Obj | None: ...


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: known variables are replaced, unknown ones left as written."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, text)


def _source_data(api: ObjectReader, resource: str, namespace: str, name: str, optional: bool) -> dict[str, str] | None:
    obj = api.get(resource, namespace, name)
    if obj is None:
        if optional:
            return None
        raise ContainerConfigError(f'{resource[:-1]} "{name}" not found')
    if resource == "secrets":
        return {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
    return dict(obj.get("data") or {})


def _key_ref(api: ObjectReader, resource: str, kind: str, namespace: str, ref: Obj) -> str | None:
    optional = bool(ref.get("optional"))
    data = _source_data(api, resource, namespace, ref["name"], optional)
    if data is None:
        return None
    if ref["key"] not in data:
        if optional:
            return None
        raise ContainerConfigError(f"couldn't find key {ref['key']} in {kind} {namespace}/{ref['name']}")
    return data[ref["key"]]


def _field_ref(pod: Obj, path: str) -> str:
    if match := _FIELD_WITH_KEY.match(path):
        return str((pod["metadata"].get(match.group(1)) or {}).get(match.group(2), ""))
    current: Any = pod
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    return "" if current is None else str(current)


def resolve_env(api: ObjectReader, pod: Obj, container: Obj, base: dict[str, str]) -> dict[str, str]:
    """``base`` (the "image" environment) overlaid with envFrom, then env. Raises ContainerConfigError."""
    namespace = pod["metadata"]["namespace"]
    env = dict(base)
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "secretRef" in source:
            ref = source["secretRef"]
            data = _source_data(api, "secrets", namespace, ref["name"], bool(ref.get("optional")))
        elif "configMapRef" in source:
            ref = source["configMapRef"]
            data = _source_data(api, "configmaps", namespace, ref["name"], bool(ref.get("optional")))
        else:
            continue
        for key, value in (data or {}).items():
            env[prefix + key] = value
    for var in container.get("env") or []:
        name = var["name"]
        value_from = var.get("valueFrom")
        if value_from is None:
            env[name] = expand(var.get("value", ""), env)
            continue
        resolved: str | None
        if "secretKeyRef" in value_from:
            resolved = _key_ref(api, "secrets", "Secret", namespace, value_from["secretKeyRef"])
        elif "configMapKeyRef" in value_from:
            resolved = _key_ref(api, "configmaps", "ConfigMap", namespace, value_from["configMapKeyRef"])
        elif "fieldRef" in value_from:
            resolved = _field_ref(pod, value_from["fieldRef"]["fieldPath"])
        else:
            raise ContainerConfigError(f"env {name}: valueFrom {sorted(value_from)} is not supported")
        if resolved is not None:
            env[name] = resolved
    return env
