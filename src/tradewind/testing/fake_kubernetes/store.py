"""The fake API server's storage: objects, one resourceVersion counter, a bounded event history, watchers.

Like etcd behind a real API server, every write bumps one global revision; a watch can resume from any
revision still in the history, and gets ``410 Expired`` for older ones.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.testing.fake_kubernetes.objects import KINDS, stamp_new, validate
from tradewind.testing.fake_kubernetes.selectors import (
    FieldRequirement,
    LabelRequirement,
    fields_match,
    labels_match,
)
from tradewind.testing.fake_kubernetes.statuses import ApiError, already_exists, conflict, not_found

Obj = dict[str, Any]
#: What a watcher's queue receives to end its stream: DROP closes the connection without a clean end.
CLOSE = "close"
DROP = "drop"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: str
    namespace: str | None
    obj: Obj
    old: Obj | None


@dataclass(eq=False)
class Watcher:
    resource: str
    namespace: str | None
    labels: list[LabelRequirement]
    fields: list[FieldRequirement]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Any]
    client: str = ""
    closed: bool = field(default=False)

    def selects(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return labels_match(self.labels, meta.get("labels")) and fields_match(self.fields, obj)

    def deliver(self, item: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:
            self.closed = True  # the server's loop is gone: nobody reads this watch any more


class Expired(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class ObjectStore:
    """Thread-safe: the server's event loop and test threads (fault injection) both use it."""

    def __init__(self, history_size: int = 1000) -> None:
        self._lock = threading.RLock()
        self._rv = 0
        self._objects: dict[str, dict[tuple[str | None, str], Obj]] = {r: {} for r in KINDS}
        self._history: deque[StoredEvent] = deque(maxlen=history_size)
        #: Events with rv > this are all in the history.
        self._compacted = 0
        self._watchers: set[Watcher] = set()

    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    # -- reads --------------------------------------------------------------------------------------
    def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        with self._lock:
            obj = self._objects[resource].get((namespace, name))
            if obj is None:
                raise not_found(resource, name)
            return copy.deepcopy(obj)

    def find(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        with self._lock:
            obj = self._objects[resource].get((namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list_objects(
        self,
        resource: str,
        namespace: str | None,
        labels: list[LabelRequirement] | None = None,
        fields: list[FieldRequirement] | None = None,
    ) -> tuple[list[Obj], int]:
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _name), obj in sorted(self._objects[resource].items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
                if (namespace is None or ns == namespace)
                and labels_match(labels or [], obj["metadata"].get("labels"))
                and fields_match(fields or [], obj)
            ]
            return items, self._rv

    # -- writes -------------------------------------------------------------------------------------
    def create(self, resource: str, namespace: str | None, obj: Obj) -> Obj:
        kind = KINDS[resource]
        with self._lock:
            if kind.namespaced and (None, namespace) not in self._objects["namespaces"]:
                raise not_found("namespaces", namespace or "")
            stamp_new(kind, obj, namespace if kind.namespaced else None)
            key = (namespace if kind.namespaced else None, obj["metadata"]["name"])
            if key in self._objects[resource]:
                raise already_exists(resource, key[1])
            return self._commit(resource, key, obj, None, "ADDED")

    def update(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        change: Callable[[Obj], Obj],
        *,
        expected_rv: str | None = None,
    ) -> Obj:
        """Apply ``change`` to a copy of the stored object. Metadata the server owns cannot be changed."""
        kind = KINDS[resource]
        with self._lock:
            key = (namespace if kind.namespaced else None, name)
            old = self._objects[resource].get(key)
            if old is None:
                raise not_found(resource, name)
            if expected_rv and expected_rv != old["metadata"]["resourceVersion"]:
                raise conflict(resource, name, "the object has been modified; please apply your changes to "
                               "the latest version and try again")
            new = change(copy.deepcopy(old))
            meta = new.setdefault("metadata", {})
            for owned in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generateName"):
                if owned in old["metadata"]:
                    meta[owned] = old["metadata"][owned]
                else:
                    meta.pop(owned, None)
            new["kind"], new["apiVersion"] = kind.kind, "v1"
            validate(kind, new)
            if new == old or _same_but_rv(new, old):
                return copy.deepcopy(old)
            if meta.get("deletionTimestamp") and not meta.get("finalizers") and _grace_over(meta):
                return self._remove(resource, key, new)
            return self._commit(resource, key, new, old, "MODIFIED")

    def delete(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        *,
        grace: int | None = None,
        preconditions: dict[str, Any] | None = None,
    ) -> Obj:
        """Graceful for pods on a node: mark with deletionTimestamp and let the kubelet finish the job."""
        kind = KINDS[resource]
        with self._lock:
            key = (namespace if kind.namespaced else None, name)
            old = self._objects[resource].get(key)
            if old is None:
                raise not_found(resource, name)
            _check_preconditions(resource, name, old, preconditions or {})
            grace = self._effective_grace(resource, old, grace)
            if resource == "namespaces":
                self._delete_namespace_contents(name)
            meta = old["metadata"]
            if meta.get("deletionTimestamp") and grace >= (meta.get("deletionGracePeriodSeconds") or 0):
                return copy.deepcopy(old)  # already on its way out, and not asked to hurry
            if grace == 0 and not meta.get("finalizers"):
                return self._remove(resource, key, copy.deepcopy(old))
            new = copy.deepcopy(old)
            deadline = datetime.now(UTC) + timedelta(seconds=grace)
            new["metadata"]["deletionTimestamp"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
            new["metadata"]["deletionGracePeriodSeconds"] = grace
            return self._commit(resource, key, new, old, "MODIFIED")

    def _effective_grace(self, resource: str, obj: Obj, grace: int | None) -> int:
        if resource != "pods":
            return 0
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        # The API server deletes at once pods that no kubelet runs: unscheduled or already finished.
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if grace is None:
            grace = int(spec.get("terminationGracePeriodSeconds", 30))
        return max(0, grace)

    def _delete_namespace_contents(self, namespace: str) -> None:
        for resource, kind in KINDS.items():
            if not kind.namespaced:
                continue
            for key in [k for k in self._objects[resource] if k[0] == namespace]:
                self._remove(resource, key, copy.deepcopy(self._objects[resource][key]))

    def _commit(self, resource: str, key: tuple[str | None, str], obj: Obj, old: Obj | None, kind: str) -> Obj:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[resource][key] = obj
        self._publish(StoredEvent(self._rv, kind, resource, key[0], copy.deepcopy(obj), old))
        return copy.deepcopy(obj)

    def _remove(self, resource: str, key: tuple[str | None, str], last: Obj) -> Obj:
        self._rv += 1
        last["metadata"]["resourceVersion"] = str(self._rv)
        old = self._objects[resource].pop(key, None)
        self._publish(StoredEvent(self._rv, "DELETED", resource, key[0], copy.deepcopy(last), old))
        return copy.deepcopy(last)

    # -- watch --------------------------------------------------------------------------------------
    def _publish(self, event: StoredEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted = self._history[0].rv
        self._history.append(event)
        for watcher in list(self._watchers):
            if watcher.resource == event.resource and not watcher.closed:
                translated = _as_seen_by(watcher, event)
                if translated is not None:
                    watcher.deliver(translated)

    def subscribe(self, watcher: Watcher, resource_version: str | None) -> list[tuple[str, Obj]]:
        """Register a watcher; returns the events it must see first. Raises Expired for a compacted rv."""
        with self._lock:
            if not resource_version or resource_version == "0":
                backlog = [("ADDED", o) for o in self.list_objects(watcher.resource, watcher.namespace,
                                                             watcher.labels, watcher.fields)[0]]
            else:
                try:
                    start = int(resource_version)
                except ValueError:
                    raise ApiError(400, f"invalid resource version: {resource_version!r}") from None
                if start < self._compacted:
                    raise Expired(start, self._compacted + 1)
                backlog = []
                for event in self._history:
                    if event.rv > start and event.resource == watcher.resource:
                        translated = _as_seen_by(watcher, event)
                        if translated is not None:
                            backlog.append(translated)
            self._watchers.add(watcher)
            return backlog

    def unsubscribe(self, watcher: Watcher) -> None:
        with self._lock:
            watcher.closed = True
            self._watchers.discard(watcher)

    def close_watchers(self, *, abrupt: bool, sparing: str | None = None) -> int:
        """End open watches (abrupt: the connection breaks mid-stream), except those of clients whose
        User-Agent starts with ``sparing``. Returns how many."""
        with self._lock:
            chosen = [w for w in self._watchers if sparing is None or not w.client.startswith(sparing)]
        for watcher in chosen:
            watcher.deliver(DROP if abrupt else CLOSE)
        return len(chosen)

    def compact(self) -> int:
        """Forget the whole event history, as etcd compaction does: older resourceVersions now get 410."""
        with self._lock:
            self._history.clear()
            self._compacted = self._rv
            return self._rv


def _as_seen_by(watcher: Watcher, event: StoredEvent) -> tuple[str, Obj] | None:
    """A watch with selectors sees ADDED when an object starts matching and DELETED when it stops."""
    now_matches = event.type != "DELETED" and watcher.selects(event.obj)
    before = watcher.selects(event.old) if event.old is not None else False
    if event.type == "DELETED":
        return ("DELETED", event.obj) if watcher.selects(event.obj) or before else None
    if now_matches and before:
        return ("MODIFIED", event.obj)
    if now_matches:
        return ("ADDED", event.obj)
    if before:
        return ("DELETED", event.obj)
    return None


def _same_but_rv(new: Obj, old: Obj) -> bool:
    def without_rv(obj: Obj) -> Obj:
        meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
        return {**obj, "metadata": meta}

    return without_rv(new) == without_rv(old)


def _grace_over(meta: dict[str, Any]) -> bool:
    return not meta.get("deletionGracePeriodSeconds")


def _check_preconditions(resource: str, name: str, obj: Obj, preconditions: dict[str, Any]) -> None:
    uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
    if uid and uid != obj["metadata"]["uid"]:
        raise conflict(resource, name, f"Precondition failed: UID in precondition: {uid}, UID in object "
                       f"meta: {obj['metadata']['uid']}")
    if rv and rv != obj["metadata"]["resourceVersion"]:
        raise conflict(resource, name, f"Precondition failed: ResourceVersion in precondition: {rv}, "
                       f"ResourceVersion in object meta: {obj['metadata']['resourceVersion']}")

