"""The three PATCH flavours of the Kubernetes API: JSON patch, JSON merge patch, strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

#: Lists that a strategic merge patch merges by a key instead of replacing (from the Kubernetes types).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "ports": "containerPort",
    "conditions": "type",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "ephemeralContainerStatuses": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
}
#: Lists of scalars that a strategic merge patch merges as sets.
MERGED_SCALAR_LISTS = frozenset({"finalizers"})


class PatchError(ValueError):
    """A patch the API server would reject (422 for a failed test op, 400 otherwise)."""

    def __init__(self, message: str, *, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


def apply_patch(doc: dict[str, Any], patch: Any, content_type: str) -> dict[str, Any]:
    base = content_type.split(";")[0].strip().lower()
    if base == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError("a JSON patch must be a list of operations")
        return json_patch(doc, patch)
    if not isinstance(patch, dict):
        raise PatchError("a merge patch must be a JSON object")
    if base == MERGE_PATCH:
        return merge_patch(doc, patch)
    if base == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(doc, patch)
    raise PatchError(f"the patch content type {content_type!r} is not supported", code=415)


# -- RFC 7386 ---------------------------------------------------------------------------------------
def merge_patch(doc: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch --------------------------------------------------------------------------
def strategic_merge_patch(doc: Any, patch: Any, field: str = "") -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            target = key.split("/", 1)[1]
            result[target] = [v for v in result.get(target, []) if v not in value]
            continue
        if key.startswith("$"):
            continue  # $setElementOrder, $retainKeys: ordering hints we do not need
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, key)
        else:
            merged = strategic_merge_patch(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def _merge_list(current: Any, patch: list[Any], field: str) -> list[Any]:
    current = copy.deepcopy(current) if isinstance(current, list) else []
    if field in MERGED_SCALAR_LISTS:
        return current + [v for v in patch if v not in current]
    merge_key = MERGE_KEYS.get(field)
    if merge_key is None:
        return copy.deepcopy(patch)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError(f"{field}: items of a strategic merge patch need the merge key {merge_key!r}")
        index = next((i for i, c in enumerate(current) if c.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                current.pop(index)
        elif index is None:
            current.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            current[index] = strategic_merge_patch(current[index], item, field)
    return current


# -- RFC 6902 ---------------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    current = doc
    for part in parts[:-1]:
        try:
            current = current[int(part)] if isinstance(current, list) else current[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise PatchError(f"path {path!r} does not exist", code=422) from None
    return current


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    try:
        return parent[int(parts[-1])] if isinstance(parent, list) else parent[parts[-1]]
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f"path {path!r} does not exist", code=422) from None


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    try:
        return parent.pop(int(parts[-1])) if isinstance(parent, list) else parent.pop(parts[-1])
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f"cannot remove {path!r}: it does not exist", code=422) from None


def _add(doc: Any, path: str, value: Any, *, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if replace:
            parent[index] = value
        else:
            parent.insert(index, value)
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"cannot replace {path!r}: it does not exist", code=422)
        parent[last] = value
    else:
        raise PatchError(f"path {path!r} does not point into an object or a list", code=422)
    return doc


def json_patch(doc: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    result: Any = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            result = _add(result, path, copy.deepcopy(op.get("value")), replace=False)
        elif kind == "replace":
            result = _add(result, path, copy.deepcopy(op.get("value")), replace=True)
        elif kind == "remove":
            _remove(result, path)
        elif kind == "move":
            result = _add(result, path, _remove(result, op["from"]), replace=False)
        elif kind == "copy":
            result = _add(result, path, copy.deepcopy(_get(result, op["from"])), replace=False)
        elif kind == "test":
            if _get(result, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed", code=422)
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    if not isinstance(result, dict):
        raise PatchError("the patched document is not an object", code=422)
    return result
