"""PodTracker: which tries the executor carries and what their pods' changes mean (TaskEvents to emit,
pods to archive and delete). No I/O: the executor performs the actions it returns.

Everything here can be rebuilt from the cluster (pods are found by label and matched by annotation), so a
restarted executor loses nothing that matters: ``adopt()`` repopulates it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.pod_identity import launch_of, try_key_of
from tradewind.executors.kubernetes.pod_outcome import PodOutcome, PodStage, read_pod

Obj = dict[str, Any]


class Stage(StrEnum):
    CREATING = "creating"
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass
class TrackedTry:
    workload: ExecuteTask
    namespace: str
    pod_name: str
    launch: int = 1
    stage: Stage = Stage.CREATING
    uid: str | None = None
    created_at: datetime | None = None
    reason: str | None = None
    last_pod: Obj | None = None
    terminating: bool = False
    holds_slot: bool = False

    @property
    def external_id(self) -> str:
        return f"{self.namespace}/{self.pod_name}"


@dataclass(frozen=True)
class Emit:
    event: TaskEvent


@dataclass(frozen=True)
class Finalize:
    """Copy the pod's output into the try's log, then delete the pod (or label it kept)."""

    key: TaskTryKey
    pod: Obj | None  # None: the pod is already gone, only a note goes to the log
    outcome: str
    delete: bool
    failed: bool
    #: Where the try's token Secret lives when ``pod`` is None (a pod deleted by someone else).
    namespace: str | None = None


Action = Emit | Finalize


@dataclass(frozen=True)
class DeletionPolicy:
    delete_worker_pods: bool = True
    delete_on_failure: bool = False

    def deletes(self, *, success: bool) -> bool:
        if not self.delete_worker_pods:
            return False
        return success or self.delete_on_failure


def _created_at(pod: Obj) -> datetime | None:
    stamp = (pod.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass
class PodTracker:
    policy: DeletionPolicy
    pending_timeout: float
    #: How many times a try whose pod never ran is given back to the scheduler without using a retry.
    launch_retries: int
    tries: dict[TaskTryKey, TrackedTry] = field(default_factory=dict)
    #: Per try, until it ends for good: how many of its pods failed to start, and the last launch number
    #: used. Kept apart from ``tries`` because a try leaves ``tries`` when its pod is archived, before the
    #: scheduler hands it back for its next launch.
    _never_started: dict[TaskTryKey, int] = field(default_factory=dict)
    _launches: dict[TaskTryKey, int] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- bookkeeping --------------------------------------------------------------------------------
    def track(self, tracked: TrackedTry) -> None:
        with self._lock:
            self.tries[tracked.workload.try_key] = tracked
            self._note_launch(tracked.workload.try_key, tracked.launch)

    def next_launch(self, key: TaskTryKey) -> tuple[int, int]:
        """The launch number for the try's next pod (each launch has its own pod name), and how many of its
        pods failed to start so far (which sets the delay before this launch)."""
        with self._lock:
            return self._launches.get(key, 0) + 1, self._never_started.get(key, 0)

    def _note_launch(self, key: TaskTryKey, launch: int) -> None:
        self._launches[key] = max(self._launches.get(key, 0), launch)

    def get(self, key: TaskTryKey) -> TrackedTry | None:
        with self._lock:
            return self.tries.get(key)

    def in_flight(self) -> set[TaskTryKey]:
        with self._lock:
            return {k for k, t in self.tries.items() if t.stage != Stage.FINISHED}

    def snapshot(self, namespace: str) -> list[TrackedTry]:
        """Tries with a pod in ``namespace`` that are not finished yet."""
        with self._lock:
            return [t for t in self.tries.values() if t.namespace == namespace and t.stage != Stage.FINISHED]

    def namespaces(self) -> set[str]:
        with self._lock:
            return {t.namespace for t in self.tries.values()}

    def reserve_slot(self, key: TaskTryKey, limit: int | None) -> bool:
        """Per-namespace pod limit: take a slot for this try's pod if one is free."""
        with self._lock:
            tracked = self.tries.get(key)
            if tracked is None or tracked.holds_slot or limit is None:
                return True
            used = sum(1 for t in self.tries.values() if t.namespace == tracked.namespace and t.holds_slot)
            if used >= limit:
                return False
            tracked.holds_slot = True
            return True

    def forget(self, key: TaskTryKey, uid: str | None) -> None:
        with self._lock:
            tracked = self.tries.get(key)
            if tracked is not None and (uid is None or tracked.uid == uid):
                del self.tries[key]

    # -- what happened ------------------------------------------------------------------------------
    def created(self, key: TaskTryKey, pod: Obj) -> list[Action]:
        with self._lock:
            tracked = self.tries.get(key)
            if tracked is None:
                return []
            tracked.pod_name = pod["metadata"]["name"]
            tracked.uid = pod["metadata"]["uid"]
            tracked.launch = launch_of(pod)  # the launcher moves past a name a finished pod still holds
            self._note_launch(key, tracked.launch)
            tracked.holds_slot = True
            if tracked.stage == Stage.CREATING:
                tracked.stage = Stage.PENDING
            return self.observe("MODIFIED", pod)

    def launch_failed(self, key: TaskTryKey, reason: str, *, never_started: bool) -> list[Action]:
        with self._lock:
            tracked = self.tries.pop(key, None)
            if tracked is None or tracked.stage != Stage.CREATING:
                return []
            return [self._final(tracked, TryProcessEvent.FAILED, reason, never_started)]

    def adopt(self, workload: ExecuteTask, pod: Obj, launch: int) -> list[Action]:
        meta = pod["metadata"]
        tracked = TrackedTry(workload, meta["namespace"], meta["name"], launch=launch, stage=Stage.PENDING,
                             uid=meta["uid"], holds_slot=True)
        with self._lock:
            self.tries[workload.try_key] = tracked
            self._note_launch(workload.try_key, launch)
            return self.observe("MODIFIED", pod)

    def observe(self, event_type: str, pod: Obj) -> list[Action]:
        key = try_key_of(pod)
        if key is None:
            return []
        with self._lock:
            tracked = self.tries.get(key)
            if tracked is None or tracked.stage == Stage.FINISHED:
                return []
            meta = pod["metadata"]
            if tracked.uid is None and meta["name"] == tracked.pod_name:
                tracked.uid = meta["uid"]  # the watch saw our pod before the create call returned
            if meta.get("uid") != tracked.uid:
                return []  # an earlier pod of the same try
            tracked.last_pod = pod
            tracked.created_at = tracked.created_at or _created_at(pod)
            if event_type == "DELETED":
                return self._deleted(tracked)
            return self._progress(tracked, pod, read_pod(pod))

    def _progress(self, tracked: TrackedTry, pod: Obj, outcome: PodOutcome) -> list[Action]:
        if outcome.stage == PodStage.PENDING:
            tracked.stage = Stage.PENDING
            tracked.reason = outcome.reason
            if outcome.fail_fast:
                return self._fail_pending(tracked, outcome.reason or "pod failed before it started")
            return []
        if outcome.stage == PodStage.RUNNING:
            if tracked.stage == Stage.RUNNING:
                return []
            tracked.stage = Stage.RUNNING
            started = TaskEvent(tracked.workload.try_key, TryProcessEvent.STARTED, external_id=tracked.external_id)
            return [Emit(started)]
        success = outcome.stage == PodStage.SUCCEEDED
        reason = outcome.reason
        if tracked.terminating and not success:
            reason = f"terminated by the scheduler ({reason})"
        kind = TryProcessEvent.EXITED_CLEANLY if success else TryProcessEvent.FAILED
        emit = self._final(tracked, kind, reason, outcome.never_started and not success and not tracked.terminating)
        text = "the pod succeeded" if success else f"the pod failed: {emit.event.reason}"
        delete = self.policy.deletes(success=success) or outcome.never_started or tracked.terminating
        return [emit, Finalize(tracked.workload.try_key, pod, text, delete=delete, failed=not success)]

    def _deleted(self, tracked: TrackedTry) -> list[Action]:
        ran = tracked.stage == Stage.RUNNING
        reason = "terminated by the scheduler" if tracked.terminating else \
            "the pod was deleted before the task finished"
        emit = self._final(tracked, TryProcessEvent.FAILED, reason, not ran and not tracked.terminating)
        self.tries.pop(tracked.workload.try_key, None)
        note = f"no output: the pod was gone before its output could be read ({emit.event.reason})"
        return [emit, Finalize(tracked.workload.try_key, None, note, delete=False, failed=True,
                               namespace=tracked.namespace)]

    def _fail_pending(self, tracked: TrackedTry, reason: str) -> list[Action]:
        emit = self._final(tracked, TryProcessEvent.FAILED, reason, True)
        # A pending pod is always deleted: left alone it could still start and run the task twice.
        return [emit, Finalize(tracked.workload.try_key, tracked.last_pod, f"the pod failed before it started: "
                               f"{emit.event.reason}", delete=True, failed=True)]

    def _final(
        self, tracked: TrackedTry, kind: TryProcessEvent, reason: str | None, never_started: bool
    ) -> Emit:
        tracked.stage = Stage.FINISHED
        key = tracked.workload.try_key
        if never_started:
            count = self._never_started.get(key, 0) + 1
            self._never_started[key] = count
            if count > self.launch_retries:
                never_started = False  # the scheduler now uses a real retry, or fails the task
                reason = f"{reason} (its pod failed to start {count} times)"
        if not never_started:  # the try is over for this executor: no further launch
            self._never_started.pop(key, None)
            self._launches.pop(key, None)
        return Emit(TaskEvent(key, kind, reason=reason, external_id=tracked.external_id,
                              never_started=never_started))

    def check_pending(self, now: datetime | None = None) -> list[Action]:
        """Pods pending longer than the timeout are failed (and deleted) with the reason they wait."""
        now = now or datetime.now(UTC)
        actions: list[Action] = []
        with self._lock:
            for tracked in list(self.tries.values()):
                if tracked.stage != Stage.PENDING or tracked.created_at is None:
                    continue
                waited = (now - tracked.created_at).total_seconds()
                if waited > self.pending_timeout:
                    why = tracked.reason or "waiting for a node"
                    actions += self._fail_pending(
                        tracked, f"pending for more than {self.pending_timeout:g}s: {why}")
        return actions

    def terminate(self, key: TaskTryKey) -> TrackedTry | None:
        with self._lock:
            tracked = self.tries.get(key)
            if tracked is None or tracked.stage == Stage.FINISHED:
                return None
            tracked.terminating = True
            return tracked
