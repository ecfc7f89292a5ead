"""PodLauncher: creates worker pods from a bounded pool of threads, retrying what the API server says is
temporary (429 with Retry-After, 403 exceeded quota, 409, 5xx, lost connections) with backoff, and launching
a try whose pod failed to start again after a growing delay, never while an earlier pod of it is alive."""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradewind.core.keys import TaskTryKey
from tradewind.executors.kubernetes.api_client import API_ERRORS, ApiFailure, describe
from tradewind.executors.kubernetes.pod_api import PodApi
from tradewind.executors.kubernetes.pod_identity import KEPT_LABEL, launch_of, try_key_of, try_selector

log = logging.getLogger(__name__)
Obj = dict[str, Any]
MAX_BACKOFF = 30.0
#: How long a relaunch waits between checks for an earlier pod of its try to be gone.
EARLIER_POD_POLL = 0.2
_FINISHED_PHASES = ("Succeeded", "Failed")


def relaunch_delay(failed_launches: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before launching a try again after ``failed_launches`` pods of it failed to start:
    ``base`` doubled per failed launch, plus up to 50 % jitter (so tries failing together do not come back
    together), at most ``cap``. Below the cap each delay is longer than the one before, jitter included."""
    if failed_launches <= 0:
        return 0.0
    return min(cap, base * 2 ** (failed_launches - 1) * (1 + 0.5 * rand()))


@dataclass
class LaunchRequest:
    key: TaskTryKey
    namespace: str
    #: Builds the pod for a given launch number (a name taken by a finished pod moves to the next one).
    build: Callable[[int], Obj]
    launch: int = 1
    #: The try's token Secret, created before its first pod (None: the try carries no token).
    secret: Obj | None = None
    #: Seconds to wait before the first create (a relaunch after pods that failed to start).
    delay: float = 0.0
    queued_at: float = field(default_factory=time.monotonic)
    attempts: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class LaunchResult:
    request: LaunchRequest
    pod: Obj | None  # the created (or found, already ours) pod; None when the launch failed
    reason: str | None = None
    never_started: bool = True


class PodLauncher:
    """``on_done`` is called from a launcher thread with each LaunchResult."""

    def __init__(
        self,
        api: PodApi,
        *,
        concurrency: int,
        on_done: Callable[[LaunchResult], None],
        has_capacity: Callable[[LaunchRequest], bool],
        give_up_after: float,
        max_server_errors: int,
    ) -> None:
        self.api = api
        self.on_done = on_done
        self.has_capacity = has_capacity
        self.give_up_after = give_up_after
        self.max_server_errors = max_server_errors
        self._queue: queue.Queue[LaunchRequest | None] = queue.Queue()
        self._cancelled: set[TaskTryKey] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._capacity_changed = threading.Condition()
        self._delayed: set[threading.Timer] = set()
        self._threads = [
            threading.Thread(target=self._work, name=f"k8s-launcher-{i}", daemon=True) for i in range(concurrency)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            delayed, self._delayed = self._delayed, set()
        for timer in delayed:
            timer.cancel()
        for _ in self._threads:
            self._queue.put(None)
        self.capacity_freed()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def submit(self, request: LaunchRequest) -> None:
        """Queue the request, after ``request.delay`` seconds (waiting in a timer, not in a creating thread)."""
        with self._lock:
            self._cancelled.discard(request.key)
            if request.delay > 0:
                request.queued_at = time.monotonic() + request.delay  # the wait is not creation time
                timer = threading.Timer(request.delay, self._release, (request,))
                timer.daemon = True
                self._delayed.add(timer)
                timer.start()
                return
        self._queue.put(request)

    def _release(self, request: LaunchRequest) -> None:
        with self._lock:
            self._delayed = {t for t in self._delayed if t.is_alive() and t is not threading.current_thread()}
            if self._stop.is_set():
                return
        self._queue.put(request)

    def cancel(self, key: TaskTryKey) -> None:
        with self._lock:
            self._cancelled.add(key)
        self.capacity_freed()

    def pending(self) -> int:
        return self._queue.qsize()

    def capacity_freed(self) -> None:
        with self._capacity_changed:
            self._capacity_changed.notify_all()

    # -- workers ------------------------------------------------------------------------------------
    def _is_cancelled(self, key: TaskTryKey) -> bool:
        with self._lock:
            return key in self._cancelled or self._stop.is_set()

    def _work(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            try:
                result = self._launch(request)
            except Exception as exc:
                log.exception("launching the pod of %s failed unexpectedly", request.key)
                result = LaunchResult(request, None, f"pod creation failed: {exc}", never_started=True)
            if result is not None:
                self.on_done(result)

    def _launch(self, request: LaunchRequest) -> LaunchResult | None:
        backoff = 0.5
        server_errors = 0
        while True:
            if self._is_cancelled(request.key):
                return None
            if not self.has_capacity(request):
                with self._capacity_changed:
                    self._capacity_changed.wait(1.0)
                continue
            if time.monotonic() - request.queued_at > self.give_up_after:
                return LaunchResult(request, None, f"could not create the pod within {self.give_up_after:g}s: "
                                    f"{request.last_error}", never_started=True)
            if request.launch > 1 and self._earlier_pod_alive(request):
                self._stop.wait(EARLIER_POD_POLL)
                continue
            request.attempts += 1
            pod = request.build(request.launch)
            try:
                if request.secret is not None:
                    self._create_secret(request)
                return LaunchResult(request, self.api.create_pod(request.namespace, pod))
            except API_ERRORS as exc:
                failure = describe(exc)
                request.last_error = str(failure)
            if failure.status == 409:
                found = self._existing(request, pod["metadata"]["name"])
                if found is not None:
                    return LaunchResult(request, found)
                continue  # next launch name, or the same name once the old pod is gone
            delay = self._delay(failure, backoff)
            if delay is None:
                return LaunchResult(request, None, f"the API server refused the pod: {failure}", never_started=False)
            if failure.is_server_error and not failure.is_throttled:
                server_errors += 1
                if server_errors > self.max_server_errors:
                    return LaunchResult(request, None, f"could not create the pod after {server_errors} server "
                                        f"errors: {failure}", never_started=True)
            log.info("creating pod for %s: %s; retrying in %.1fs", request.key, failure, delay)
            self._stop.wait(delay)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _earlier_pod_alive(self, request: LaunchRequest) -> bool:
        """Never two live pods for one try: an earlier launch's pod (it failed to start, so the executor is
        deleting it) must be gone before the next one is created; one not being deleted yet is deleted here."""
        try:
            pods, _rv = self.api.list_pods(request.namespace, try_selector(request.key))
        except API_ERRORS as exc:
            request.last_error = f"listing the earlier pods of the try: {describe(exc)}"
            return True
        alive = False
        for pod in pods:
            meta = pod.get("metadata") or {}
            if try_key_of(pod) != request.key or launch_of(pod) >= request.launch:
                continue
            if (pod.get("status") or {}).get("phase") in _FINISHED_PHASES:
                continue
            alive = True
            if not meta.get("deletionTimestamp"):
                try:
                    self.api.delete_pod(request.namespace, meta["name"], uid=meta.get("uid"))
                except API_ERRORS as exc:
                    request.last_error = f"deleting earlier pod {meta['name']}: {describe(exc)}"
        return alive

    def _create_secret(self, request: LaunchRequest) -> None:
        """Create the try's token Secret; one that exists already is this try's (same name, same token)."""
        assert request.secret is not None
        try:
            self.api.create_secret(request.namespace, request.secret)
        except API_ERRORS as exc:
            if describe(exc).status != 409:
                raise
        request.secret = None  # created: later attempts only create the pod

    def _delay(self, failure: ApiFailure, backoff: float) -> float | None:
        """Seconds to wait before trying again, or None when trying again cannot help."""
        jittered = backoff * (0.5 + random.random())
        if failure.is_throttled:
            return failure.retry_after if failure.retry_after is not None else jittered
        if failure.is_quota or failure.is_server_error:
            return jittered
        return None

    def _existing(self, request: LaunchRequest, name: str) -> Obj | None:
        """A 409 on create: is the pod with this name already ours (a create whose answer got lost)?
        If it belongs to another try or is a finished one, move this request to the next launch name."""
        try:
            pod = self.api.read_pod(request.namespace, name)
        except API_ERRORS:
            self._stop.wait(0.2)  # gone meanwhile, or the 409 was spurious: try the same name again
            return None
        meta = pod.get("metadata") or {}
        mine = try_key_of(pod) == request.key
        finished = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        kept = (meta.get("labels") or {}).get(KEPT_LABEL) == "true"
        if mine and not finished and not kept and not meta.get("deletionTimestamp"):
            return pod
        if meta.get("deletionTimestamp") and mine:
            self._stop.wait(0.5)  # our earlier pod is terminating; its name frees up shortly
            return None
        request.launch += 1
        return None
