"""KubernetesExecutor: one pod per task try, watched per namespace, adopted after restarts, its output kept
in the try's log file after the pod is gone."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiException

from tradewind.config.settings import KubernetesSettings, Settings
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.log_paths import log_relative_path
from tradewind.core.workload import ExecuteTask
from tradewind.executors.base import AdoptionCandidate, Executor
from tradewind.executors.kubernetes.api_client import API_ERRORS, TRANSIENT_ERRORS, describe, make_core_api
from tradewind.executors.kubernetes.orphans import pick_adoptable, settle_orphans
from tradewind.executors.kubernetes.pod_api import PodApi
from tradewind.executors.kubernetes.pod_identity import (
    ADOPTABLE_SELECTOR,
    ARCHIVED_ANNOTATION,
    KEPT_LABEL,
    OWNER_LABEL,
    launch_of,
    owner_of,
    safe_label_value,
    token_secret,
    token_secret_name,
    try_key_of,
)
from tradewind.executors.kubernetes.pod_launcher import (
    LaunchRequest,
    LaunchResult,
    PodLauncher,
    relaunch_delay,
)
from tradewind.executors.kubernetes.pod_logs import archive_pod, try_log_file
from tradewind.executors.kubernetes.pod_metrics import record_event, record_pending
from tradewind.executors.kubernetes.pod_spec import (
    WorkerPodConfig,
    build_worker_pod,
    namespace_for,
    remote_logging_env,
)
from tradewind.executors.kubernetes.pod_template import load_pod_template
from tradewind.executors.kubernetes.pod_tracker import (
    Action,
    DeletionPolicy,
    Emit,
    Finalize,
    PodTracker,
    Stage,
    TrackedTry,
)
from tradewind.executors.kubernetes.watcher import PodWatcher
from tradewind.logs.remote_store import LogStore
from tradewind.logs.upload import upload_log
from tradewind.sdk.errors import ConfigError, ExecutorError

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class KubernetesExecutor(Executor):
    """Carries each try as a pod. ``scheduler_job_id`` (set by the scheduler before ``start()``) is the owner
    label on the pods it creates; pods of another owner are relabelled when adopted.

    Threads: a bounded pool creating pods, one watcher per namespace, a small pool archiving logs and
    deleting finished pods, and a housekeeper (pending timeouts, periodic re-list).
    """

    name = "kubernetes"

    def __init__(
        self,
        parallelism: int,
        *,
        settings: KubernetesSettings,
        log_folder: Path,
        log_store: LogStore | None = None,
        delete_local_logs: bool = False,
        watch_timeout: int = 60,
        resync_interval: float = 60.0,
        orphan_grace: float = 300.0,
        finalizer_threads: int = 4,
    ) -> None:
        super().__init__(parallelism)
        self.settings = settings
        self.log_folder = Path(log_folder)
        #: Where a try's log goes once its pod's output is added (None: it stays in the log folder only).
        self.log_store = log_store
        self.delete_local_logs = delete_local_logs
        self.scheduler_job_id: int | None = None
        self.pod_config = WorkerPodConfig.from_settings(settings)
        self.tracker = PodTracker(
            DeletionPolicy(settings.delete_worker_pods, settings.delete_worker_pods_on_failure),
            pending_timeout=settings.worker_pods_pending_timeout,
            launch_retries=settings.pod_launch_retries,
        )
        self.watch_timeout = watch_timeout
        self.resync_interval = resync_interval
        self.orphan_grace = orphan_grace
        self._finalizer_threads = finalizer_threads
        self._instance = uuid.uuid4().hex[:8]
        self._template: Obj = {}
        self._api: PodApi | None = None
        self._launcher: PodLauncher | None = None
        self._finalizers: ThreadPoolExecutor | None = None
        self._watchers: dict[str, PodWatcher] = {}
        self._lock = threading.Lock()
        self._resync_lock = threading.Lock()
        self._stop = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self._last_resync = time.monotonic()
        #: Owner labels of schedulers found dead at adoption: their finished pods are settled at once, also
        #: those that finish later (a task done but its pod still stopping when this scheduler took over).
        self._dead_owners: set[str] = set()
        #: Pods handed to a finaliser as orphans, so repeated watch events settle each once.
        self._settling: set[str] = set()
        self._settling_lock = threading.Lock()

    @property
    def owner(self) -> str:
        return str(self.scheduler_job_id) if self.scheduler_job_id is not None else f"executor-{self._instance}"

    @property
    def api(self) -> PodApi:
        if self._api is None:
            raise ExecutorError("the Kubernetes executor is not started")
        return self._api

    # -- life-cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._template = load_pod_template(self.settings.pod_template_file)
        concurrency = self.settings.pod_creation_concurrency
        self._api = PodApi(make_core_api(self.settings, pool_size=concurrency + self._finalizer_threads + 8))
        self._launcher = PodLauncher(
            self._api,
            concurrency=concurrency,
            on_done=self._on_launch,
            has_capacity=lambda request: self.tracker.reserve_slot(request.key, self.settings.max_pods_per_namespace),
            give_up_after=self.settings.worker_pods_pending_timeout,
            max_server_errors=max(3, self.settings.pod_launch_retries * 3),
        )
        self._launcher.start()
        self._finalizers = ThreadPoolExecutor(self._finalizer_threads, thread_name_prefix="k8s-finalize")
        self._ensure_watcher(self.settings.namespace)
        self._housekeeper = threading.Thread(target=self._housekeep, name="k8s-housekeeper", daemon=True)
        self._housekeeper.start()

    def stop(self, *, wait: bool = True) -> None:
        """``wait`` lets queued creations and started log copies finish; running pods are never waited
        for: they run on, and the next executor adopts them."""
        if wait and self._launcher is not None:
            deadline = time.monotonic() + 30
            while self._launcher.pending() and time.monotonic() < deadline:
                time.sleep(0.05)
        self._stop.set()
        if self._launcher is not None:
            self._launcher.stop()
        for watcher in list(self._watchers.values()):
            watcher.stop()
        if self._housekeeper is not None:
            self._housekeeper.join(timeout=5)
        if self._finalizers is not None:
            self._finalizers.shutdown(wait=wait, cancel_futures=not wait)
        if self._api is not None:
            self._api.close()

    # -- work ---------------------------------------------------------------------------------------
    def queue_workload(self, workload: ExecuteTask) -> str | None:
        key = workload.try_key
        existing = self.tracker.get(key)
        if existing is not None and existing.stage != Stage.FINISHED:
            return existing.external_id  # already carried: never two pods for one try
        # Each launch of a try has its own pod name; one after pods that failed to start waits longer each time.
        launch, failed_launches = self.tracker.next_launch(key)
        delay = relaunch_delay(failed_launches, base=self.settings.pod_relaunch_delay,
                               cap=self.settings.pod_relaunch_max_delay)
        build = functools.partial(self._build, workload)
        try:
            namespace = namespace_for(workload, self.pod_config)
            first = build(launch)
        except ConfigError as exc:
            self._emit(TaskEvent(key, TryProcessEvent.FAILED, reason=f"invalid worker pod: {exc}"))
            return None
        tracked = TrackedTry(workload, namespace, first["metadata"]["name"], launch=launch)
        self.tracker.track(tracked)
        self._ensure_watcher(namespace)
        assert self._launcher is not None
        secret = token_secret(workload, namespace, self.owner) if workload.token else None
        self._launcher.submit(LaunchRequest(key, namespace, build, launch=launch, secret=secret, delay=delay))
        return tracked.external_id

    def _build(self, workload: ExecuteTask, launch: int) -> Obj:
        return build_worker_pod(workload, self.pod_config, template=self._template, owner=self.owner, launch=launch)

    def terminate(self, key: TaskTryKey) -> None:
        tracked = self.tracker.terminate(key)
        if tracked is None:
            return
        if tracked.stage == Stage.CREATING:
            assert self._launcher is not None
            self._launcher.cancel(key)
            self._perform(self.tracker.launch_failed(key, "terminated before its pod was created",
                                                     never_started=False))
            return
        self._submit(self._delete_pod, tracked.namespace, tracked.pod_name, tracked.uid)

    def running_keys(self) -> set[TaskTryKey]:
        return self.tracker.in_flight()

    def sync(self) -> None:
        record_pending(self.metrics, self.tracker)
        if time.monotonic() - self._last_resync >= self.resync_interval:
            self._resync()

    # -- adoption -----------------------------------------------------------------------------------
    def adopt(self, candidates: Sequence[AdoptionCandidate]) -> list[ExecuteTask]:
        """Take over the pods of earlier schedulers' tries; return the tries that have no pod."""
        namespaces = {self.settings.namespace}
        for candidate in candidates:
            with contextlib.suppress(ConfigError):
                namespaces.add(namespace_for(candidate.workload, self.pod_config))
        pods: list[Obj] = []
        for namespace in sorted(namespaces):
            self._ensure_watcher(namespace)
            pods += self._list_pods(namespace)
        by_key: dict[TaskTryKey, list[Obj]] = {}
        for pod in pods:
            key = try_key_of(pod)
            if key is not None:
                by_key.setdefault(key, []).append(pod)
        not_adopted: list[ExecuteTask] = []
        dead_owners: set[str] = set()
        for candidate in candidates:
            key = candidate.workload.try_key
            if self.tracker.get(key) is not None:
                continue  # already ours
            found = pick_adoptable(by_key.get(key, []))
            if found is None:
                not_adopted.append(candidate.workload)
                continue
            dead_owners.add(owner_of(found) or "")
            pod = self._take_ownership(found)
            self._perform(self.tracker.adopt(candidate.workload, pod, launch_of(pod)))
        self._dead_owners |= dead_owners - {"", safe_label_value(self.owner)}
        self._collect_orphans(pods)
        return not_adopted

    def _take_ownership(self, pod: Obj) -> Obj:
        owner = safe_label_value(self.owner)
        if owner_of(pod) == owner:
            return pod
        meta = pod["metadata"]
        try:
            return self.api.patch_pod(meta["namespace"], meta["name"], {"metadata": {"labels": {OWNER_LABEL: owner}}})
        except API_ERRORS as exc:
            log.warning("could not relabel pod %s/%s for owner %s: %s", meta["namespace"], meta["name"], owner,
                        describe(exc))
            return pod

    def _collect_orphans(self, pods: list[Obj]) -> None:
        for action in settle_orphans(
            pods,
            is_tracked=lambda key: self.tracker.get(key) is not None,
            settle_now_owners={safe_label_value(self.owner), *self._dead_owners},
            grace=self.orphan_grace,
            now=datetime.now(UTC),
            policy=self.tracker.policy,
        ):
            uid = str(action.pod["metadata"].get("uid")) if action.pod is not None else ""
            with self._settling_lock:
                if uid in self._settling:
                    continue
                self._settling.add(uid)
            self._submit(self._finalize_orphan, action, uid)

    def _finalize_orphan(self, action: Finalize, uid: str) -> None:
        try:
            self._finalize(action)
        except BaseException:
            with self._settling_lock:
                self._settling.discard(uid)  # the next re-list tries again
            raise

    # -- reactions ----------------------------------------------------------------------------------
    def _on_launch(self, result: LaunchResult) -> None:
        key = result.request.key
        if result.pod is not None:
            self.metrics.incr("kubernetes_executor.pods_created")
            self._perform(self.tracker.created(key, result.pod))
        else:
            log.error("no pod for %s: %s", key, result.reason)
            self._submit(self._delete_token_secret, result.request.namespace, key)
            self._perform(self.tracker.launch_failed(key, result.reason or "pod creation failed",
                                                     never_started=result.never_started))

    def _on_event(self, event_type: str, pod: Obj) -> None:
        actions = self.tracker.observe(event_type, pod)
        if event_type == "DELETED":
            with self._settling_lock:
                self._settling.discard(str(pod["metadata"].get("uid")))
        elif (
            not actions
            and self._dead_owners
            and owner_of(pod) in self._dead_owners
            and (pod["metadata"].get("labels") or {}).get(KEPT_LABEL) != "true"
        ):
            self._collect_orphans([pod])  # a dead scheduler's pod that finished after this one took over
        self._perform(actions)

    def _on_list(self, namespace: str, pods: list[Obj]) -> None:
        """After a (re-)list: catch up on every pod, and on pods we track that vanished while unwatched."""
        present = {p["metadata"]["uid"] for p in pods}
        for tracked in self.tracker.snapshot(namespace):
            if tracked.uid and tracked.uid not in present and tracked.last_pod is not None:
                self._check_vanished(tracked)
        for pod in pods:
            self._on_event("MODIFIED", pod)

    def _check_vanished(self, tracked: TrackedTry) -> None:
        # The list may predate the pod's creation: only a GET that says 404 proves it is gone.
        assert tracked.last_pod is not None
        try:
            pod = self.api.read_pod(tracked.namespace, tracked.pod_name)
        except ApiException as exc:
            if exc.status == 404:
                self._perform(self.tracker.observe("DELETED", tracked.last_pod))
            return
        except TRANSIENT_ERRORS:
            return
        self._on_event("MODIFIED", pod)

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Emit):
                record_event(self.metrics, action.event)
                self._emit(action.event)
            else:
                self._submit(self._finalize, action)

    def _submit(self, fn: Any, *args: Any) -> None:
        if self._finalizers is None or self._stop.is_set():
            return
        with contextlib.suppress(RuntimeError):  # shut down meanwhile: the next executor finishes the job
            self._finalizers.submit(_logged, fn, *args)

    # -- finishing a pod ----------------------------------------------------------------------------
    def _finalize(self, action: Finalize) -> None:
        log_file = try_log_file(self.log_folder, action.key)
        pod = action.pod
        tracked = self.tracker.get(action.key)
        if tracked is not None and (pod is None or tracked.uid == pod["metadata"].get("uid")):
            # Not when a newer launch of the try is tracked already: its pod needs the Secret.
            self._delete_token_secret(tracked.namespace, action.key)
        elif tracked is None and pod is None and action.namespace is not None:
            # The pod was deleted by someone else and the try is no longer tracked: nothing needs the Secret
            # (a relaunch creates it again).
            self._delete_token_secret(action.namespace, action.key)
        if pod is None:
            _append(log_file, f"[kubernetes] {action.outcome}")
            return
        meta = pod["metadata"]
        namespace, name, uid = meta["namespace"], meta["name"], meta["uid"]
        if (meta.get("annotations") or {}).get(ARCHIVED_ANNOTATION) != "true":
            archive_pod(self.api, pod, log_file, outcome=action.outcome, include_events=action.failed,
                        shared_log_volume=bool(self.settings.logs_volume_claim))
            self._patch(namespace, name, {"metadata": {"annotations": {ARCHIVED_ANNOTATION: "true"}}})
            if self.log_store is not None:
                upload_log(self.log_store, log_file, log_relative_path(action.key.ti, action.key.try_number),
                           delete_local=self.delete_local_logs)  # fmt: skip
        if action.delete:
            self._delete_pod(namespace, name, uid)
        else:
            self._patch(namespace, name, {"metadata": {"labels": {KEPT_LABEL: "true"}}})
        self.tracker.forget(action.key, uid)
        if self._launcher is not None:
            self._launcher.capacity_freed()

    def _patch(self, namespace: str, name: str, body: Obj) -> None:
        try:
            self.api.patch_pod(namespace, name, body)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def _delete_token_secret(self, namespace: str, key: TaskTryKey) -> None:
        """The try is over for this executor: its token Secret goes (the token is refused by now anyway)."""
        try:
            self.api.delete_secret(namespace, token_secret_name(key))
        except ApiException as exc:
            if exc.status != 404:
                log.warning("could not delete the token Secret of %s: %s", key, exc.reason)

    def _delete_pod(self, namespace: str, name: str, uid: str | None) -> None:
        try:
            self.api.delete_pod(namespace, name, uid=uid)
        except ApiException as exc:
            if exc.status not in (404, 409):  # gone already, or a newer pod took the name
                raise

    # -- watching and housekeeping ------------------------------------------------------------------
    def _ensure_watcher(self, namespace: str) -> None:
        with self._lock:
            if namespace in self._watchers or self._stop.is_set():
                return
            watcher = PodWatcher(self.api, namespace, label_selector=ADOPTABLE_SELECTOR, on_event=self._on_event,
                                 on_list=self._on_list, watch_timeout=self.watch_timeout)
            self._watchers[namespace] = watcher
        watcher.start()

    def _list_pods(self, namespace: str) -> list[Obj]:
        return self.api.list_pods(namespace, ADOPTABLE_SELECTOR)[0]

    def _resync(self) -> None:
        if not self._resync_lock.acquire(blocking=False):
            return  # the housekeeper and sync() both call this; one at a time is enough
        try:
            self._resync_all()
        finally:
            self._resync_lock.release()

    def _resync_all(self) -> None:
        self._last_resync = time.monotonic()
        for namespace in sorted(set(self._watchers) | self.tracker.namespaces()):
            try:
                pods = self._list_pods(namespace)
            except API_ERRORS as exc:
                log.warning("re-listing pods in %s failed: %s", namespace, describe(exc))
                continue
            self._on_list(namespace, pods)
            self._collect_orphans(pods)

    def _housekeep(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self._perform(self.tracker.check_pending())
                if time.monotonic() - self._last_resync >= self.resync_interval:
                    self._resync()
            except Exception:
                log.exception("Kubernetes executor housekeeping failed")


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    with path.open("a", encoding="utf-8") as out:
        out.write(f"{stamp} {text}\n")


def _logged(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("Kubernetes executor: %s failed", getattr(fn, "__name__", fn))


def create_executor(settings: Settings, *, log_store: LogStore | None = None) -> KubernetesExecutor:
    executor = KubernetesExecutor(
        settings.core.parallelism, settings=settings.kubernetes, log_folder=settings.base_log_folder,
        log_store=log_store, delete_local_logs=settings.logging.delete_local_logs,
    )  # fmt: skip
    executor.pod_config = replace(executor.pod_config, remote_logging=remote_logging_env(settings.logging))
    return executor
