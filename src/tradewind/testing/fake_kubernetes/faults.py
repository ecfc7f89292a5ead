"""Faults a test asks the fake cluster to inject: failing API requests, and pods that go wrong."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from tradewind.testing.fake_kubernetes.selectors import LabelRequirement, labels_match, parse_label_selector
from tradewind.testing.fake_kubernetes.statuses import (
    ApiError,
    already_exists,
    internal_error,
    quota_exceeded,
    too_many_requests,
)

#: The annotation the process kubelet obeys. Set it on a pod (in its manifest, or later through the
#: fault API) to make that pod misbehave the way a real node would.
POD_FAULT_ANNOTATION = "fake.tradewind.io/fault"
#: User-Agent prefix of the process kubelet: API faults meant for clients under test spare it.
KUBELET_USER_AGENT = "tradewind-process-kubelet"


class PodFault(StrEnum):
    IMAGE_PULL = "image-pull"  # Pending: ErrImagePull, then ImagePullBackOff
    OOM_KILLED = "oom-killed"  # the container starts, then is killed: OOMKilled, exit code 137
    UNSCHEDULABLE = "unschedulable"  # Pending: PodScheduled=False, reason Unschedulable
    EVICTED = "evicted"  # Failed, reason Evicted


@dataclass(frozen=True, slots=True)
class CreateFailure:
    code: int  # 500, 429, 403 (quota) or 409
    retry_after: int | None
    resource: str


@dataclass
class _PodRule:
    fault: PodFault
    selector: list[LabelRequirement]
    remaining: int


class Faults:
    """Thread-safe queue of pending faults; the server consults it on each request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._creates: deque[CreateFailure] = deque()
        self._expired_watches = 0
        self._failed_watches: deque[int] = deque()
        self._pod_rules: list[_PodRule] = []

    def fail_next_creates(
        self, count: int, code: int = 500, *, retry_after: int | None = None, resource: str = "pods"
    ) -> None:
        if code not in (500, 503, 429, 403, 409):
            raise ValueError(f"cannot inject create failures with code {code}")
        with self._lock:
            for _ in range(count):
                self._creates.append(CreateFailure(code, retry_after, resource))

    def expire_next_watches(self, count: int = 1) -> None:
        with self._lock:
            self._expired_watches += count

    def fail_next_watches(self, count: int = 1, code: int = 500) -> None:
        """The next ``count`` watch requests of clients under test get an HTTP error instead of a stream."""
        with self._lock:
            self._failed_watches.extend([code] * count)

    def fault_next_pods(self, fault: PodFault | str, *, label_selector: str = "", count: int = 1) -> None:
        """The next ``count`` pods created that match ``label_selector`` get ``fault``."""
        with self._lock:
            self._pod_rules.append(_PodRule(PodFault(fault), parse_label_selector(label_selector), count))

    def clear(self) -> None:
        with self._lock:
            self._creates.clear()
            self._expired_watches = 0
            self._failed_watches.clear()
            self._pod_rules.clear()

    # -- consulted by the server --------------------------------------------------------------------
    def create_failure(self, resource: str, name: str) -> ApiError | None:
        with self._lock:
            index = next((i for i, f in enumerate(self._creates) if f.resource == resource), None)
            if index is None:
                return None
            failure = self._creates[index]
            del self._creates[index]
        if failure.code == 429:
            return too_many_requests(failure.retry_after if failure.retry_after is not None else 1)
        if failure.code == 403:
            return quota_exceeded(resource, name)
        if failure.code == 409:
            return already_exists(resource, name)
        return internal_error() if failure.code == 500 else ApiError(503, "the server is currently unable "
                                                                          "to handle the request")

    def watch_expired(self) -> bool:
        with self._lock:
            if self._expired_watches <= 0:
                return False
            self._expired_watches -= 1
            return True

    def watch_failure(self) -> ApiError | None:
        with self._lock:
            if not self._failed_watches:
                return None
            code = self._failed_watches.popleft()
        if code == 429:
            return too_many_requests(1)
        return internal_error() if code == 500 else ApiError(code, "the watch failed (injected)")

    def fault_for_new_pod(self, labels: dict[str, str] | None) -> PodFault | None:
        with self._lock:
            for rule in self._pod_rules:
                if rule.remaining > 0 and labels_match(rule.selector, labels):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._pod_rules.remove(rule)
                    return rule.fault
        return None
