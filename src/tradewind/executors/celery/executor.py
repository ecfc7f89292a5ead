"""CeleryExecutor: sends each task try to Celery on its queue and reports what the result backend says."""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.backends.base import BaseKeyValueStoreBackend
from celery.backends.redis import RedisBackend

from tradewind.config.settings import CelerySettings, Settings
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.base import AdoptionCandidate, Executor
from tradewind.executors.celery.app import (
    build_celery_app,
    is_persistent_backend,
    mask_url,
    result_backend_url,
)
from tradewind.executors.celery.broker_epoch import BrokerEpoch
from tradewind.executors.celery.outcomes import (
    FINAL_STATES,
    IN_FLIGHT_STATES,
    SENT,
    event_for_state,
)
from tradewind.executors.celery.task_ids import celery_task_id
from tradewind.executors.celery.worker_task import TASK_NAME
from tradewind.sdk.errors import ExecutorError

log = logging.getLogger(__name__)

#: Seconds between two reads of the result backend for the tries in flight.
DEFAULT_POLL_INTERVAL = 0.25
#: Seconds ``stop()`` waits for pending sends and revokes (a broker outage must not hold a shutdown).
STOP_TIMEOUT = 15.0
#: Seconds between two looks at a Redis broker's epoch (``broker_epoch``).
BROKER_CHECK_INTERVAL = 5.0


@dataclass
class _InFlight:
    workload: ExecuteTask
    task_id: str
    reported_running: bool = False
    terminate_requested: bool = False


@dataclass(frozen=True)
class _Send:
    workload: ExecuteTask
    task_id: str


@dataclass(frozen=True)
class _Revoke:
    key: TaskTryKey
    task_id: str


class _Poll:
    """Ask the client thread to read the backend now."""


class _Stop:
    """Ask the client thread to finish: every command queued before this one has been carried out."""


class CeleryExecutor(Executor):
    """Runs tries on Celery workers (``tradewind celery worker``).

    One client thread owns every conversation with Celery (sending, revoking, reading results): Celery's
    result backends are per thread, and the ``rpc://`` backend only answers the thread that sent the task.
    ``queue_workload`` therefore returns at once with the try's deterministic Celery task id, and a try the
    broker refuses is reported as a FAILED event with ``never_started=True``.
    """

    name = "celery"

    def __init__(
        self,
        celery_settings: CelerySettings,
        *,
        parallelism: int,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(parallelism)
        self.celery_settings = celery_settings
        self.poll_interval = poll_interval
        self._backend_url = result_backend_url(celery_settings)
        self._persistent = is_persistent_backend(self._backend_url)
        self._lock = threading.Lock()
        self._in_flight: dict[TaskTryKey, _InFlight] = {}
        self._commands: queue.SimpleQueue[_Send | _Revoke | _Poll | _Stop] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._app: Celery | None = None
        #: Queues whose depth gauge was set: an emptied queue is reported as 0, not left at its last value.
        self._gauged_queues: set[str] = set()

    # -- life-cycle ---------------------------------------------------------------------------------
    @property
    def app(self) -> Celery:
        with self._lock:
            if self._app is None:
                self._app = build_celery_app(self.celery_settings)
            return self._app

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._client_loop, name="celery-executor-client", daemon=True)
        self._thread.start()
        log.info(
            "Celery executor started: broker %s, result backend %s",
            mask_url(self.celery_settings.broker_url.get_secret_value()),
            mask_url(self._backend_url),
        )

    def stop(self, *, wait: bool = True) -> None:
        """Tries keep running on the workers either way, and a later scheduler adopts them. ``wait`` first
        finishes the sends and revokes already asked for; without it they are dropped (tries never sent are
        not adopted, so the next scheduler queues them again)."""
        if wait:
            self._commands.put(_Stop())
        else:
            self._stopping.set()
            self._commands.put(_Poll())
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            if self._thread.is_alive():
                log.warning("the Celery executor's client thread did not finish within %ss", STOP_TIMEOUT)
            self._thread = None
        self._stopping.set()
        with self._lock:
            app, self._app = self._app, None
        if app is not None:
            app.close()

    # -- work ---------------------------------------------------------------------------------------
    def queue_workload(self, workload: ExecuteTask) -> str:
        key = workload.try_key
        with self._lock:
            existing = self._in_flight.get(key)
            if existing is not None:  # a resend of a try already carried: nothing new to do
                return existing.task_id
            task_id = celery_task_id(key)
            self._in_flight[key] = _InFlight(workload, task_id)
        self._commands.put(_Send(workload, task_id))
        return task_id

    def terminate(self, key: TaskTryKey) -> None:
        with self._lock:
            entry = self._in_flight.get(key)
            if entry is not None:
                entry.terminate_requested = True
        task_id = entry.task_id if entry is not None else celery_task_id(key)
        self._commands.put(_Revoke(key, task_id))

    def running_keys(self) -> set[TaskTryKey]:
        with self._lock:
            return set(self._in_flight)

    def release(self, keys: Collection[TaskTryKey]) -> None:
        """Forget tries the database has ended. A worker SIGKILLed mid-try leaves the try's Celery state at
        STARTED until the broker redelivers its message (Redis: after ``visibility_timeout``, 6 h by
        default), though its runner recorded the try's end; carried until then, each such try would hold
        one of ``parallelism``'s slots."""
        with self._lock:
            released = [key for key in keys if self._in_flight.pop(key, None) is not None]
        if released:
            log.info("released tries the database has ended: %s", ", ".join(map(str, released)))

    def sync(self) -> None:
        """Read the backend now, and restart the client thread if it died."""
        if self._thread is not None and not self._thread.is_alive() and not self._stopping.is_set():
            log.error("the Celery executor's client thread stopped unexpectedly; restarting it")
            self.start()
        self._commands.put(_Poll())
        self._record_queue_depth()

    def _queue_name(self, workload: ExecuteTask) -> str:
        named = workload.queue if workload.queue not in ("", "default") else None
        return named or self.celery_settings.default_queue

    def _record_queue_depth(self) -> None:
        """Tries sent to each queue that no worker has started yet, as this executor knows them."""
        if not self.metrics.enabled:
            return
        with self._lock:
            depth = Counter(self._queue_name(e.workload) for e in self._in_flight.values() if not e.reported_running)
        self._gauged_queues |= set(depth)
        for queue_name in self._gauged_queues:
            self.metrics.gauge("celery.queued_tasks", depth.get(queue_name, 0), queue=queue_name)

    def adopt(self, candidates: Sequence[AdoptionCandidate]) -> list[ExecuteTask]:
        """Re-attach to tries an earlier scheduler sent: those the result backend knows (sent, started or
        finished) are followed from now on; the rest are returned. With ``rpc://`` nothing can be adopted."""
        if not candidates:
            return []
        if not self._persistent:
            return [c.workload for c in candidates]
        ids = [c.external_executor_id or celery_task_id(c.workload.try_key) for c in candidates]
        try:
            metas = fetch_states(self.app.backend, ids)
        except Exception as exc:
            raise ExecutorError(
                f"cannot read the Celery result backend {mask_url(self._backend_url)} to adopt tries: "
                f"{self._scrub(str(exc))}"
            ) from None
        not_adopted: list[ExecuteTask] = []
        with self._lock:
            for candidate, task_id in zip(candidates, ids, strict=True):
                status = metas[task_id][0]
                if status in IN_FLIGHT_STATES or status in FINAL_STATES:
                    self._in_flight[candidate.workload.try_key] = _InFlight(candidate.workload, task_id)
                else:
                    not_adopted.append(candidate.workload)
        self._commands.put(_Poll())
        return not_adopted

    # -- the client thread --------------------------------------------------------------------------
    def _client_loop(self) -> None:
        app = self.app
        epoch = BrokerEpoch.for_broker(self.celery_settings.broker_url.get_secret_value())
        try:
            self._serve(app, epoch)
        finally:
            if epoch is not None:
                epoch.close()

    def _serve(self, app: Celery, epoch: BrokerEpoch | None) -> None:
        next_poll = next_broker_check = 0.0
        while not self._stopping.is_set():
            try:
                command = self._commands.get(timeout=max(0.0, next_poll - time.monotonic()))
            except queue.Empty:
                command = None
            polled_now = False
            while command is not None and not self._stopping.is_set():
                if isinstance(command, _Stop):
                    return
                if isinstance(command, _Send):
                    self._send(app, command)
                elif isinstance(command, _Revoke):
                    self._revoke(app, command)
                else:
                    polled_now = True
                try:
                    command = self._commands.get_nowait()
                except queue.Empty:
                    command = None
            if epoch is not None and time.monotonic() >= next_broker_check:
                self._check_broker(epoch)
                next_broker_check = time.monotonic() + BROKER_CHECK_INTERVAL
            if polled_now or time.monotonic() >= next_poll:
                self._poll(app)
                next_poll = time.monotonic() + self.poll_interval

    def _check_broker(self, epoch: BrokerEpoch) -> None:
        """If the broker lost its data, hand back the tries that were waiting in it: the scheduler queues
        them again without using a retry. Tries already started are left to their runners."""
        try:
            lost = epoch.lost_data()
        except Exception as exc:
            log.debug("cannot look at the broker's epoch (will retry): %s", self._scrub(str(exc)))
            return
        if not lost:
            return
        with self._lock:
            waiting = [entry for entry in self._in_flight.values() if not entry.reported_running]
            for entry in waiting:
                del self._in_flight[entry.workload.try_key]
        broker = mask_url(self.celery_settings.broker_url.get_secret_value())
        reason = f"the Celery broker {broker} lost its queued messages (restarted without persistence, or flushed)"
        log.error("%s: %d waiting tries handed back to be sent again", reason, len(waiting))
        for entry in waiting:
            self._emit(TaskEvent(entry.workload.try_key, TryProcessEvent.FAILED, reason=reason,
                                 external_id=entry.task_id, never_started=True))

    def _send(self, app: Celery, command: _Send) -> None:
        workload, task_id = command.workload, command.task_id
        queue_name = self._queue_name(workload)
        try:
            if self._persistent:
                backend = app.backend
                # A result left by an earlier send of this same try would be read as this send's outcome.
                if backend.get_task_meta(task_id, cache=False)["status"] in FINAL_STATES:
                    backend.forget(task_id)
                backend.store_result(task_id, None, SENT)
            app.tasks[TASK_NAME].apply_async(
                args=[workload.model_dump(mode="json")], queue=queue_name, task_id=task_id
            )
            if isinstance(app.backend, RedisBackend):
                # apply_async subscribes to the result's pub/sub channel; we read results by polling.
                app.backend.result_consumer.cancel_for(task_id)
        except Exception as exc:
            with self._lock:
                self._in_flight.pop(workload.try_key, None)
            broker = mask_url(self.celery_settings.broker_url.get_secret_value())
            reason = f"could not send to the Celery broker {broker}: {self._scrub(str(exc))}"
            log.error("%s: %s", workload.try_key, reason)
            self._emit(
                TaskEvent(
                    workload.try_key, TryProcessEvent.FAILED, reason=reason, external_id=task_id,
                    never_started=True,
                )
            )
            return
        log.debug("sent %s to queue %s as %s", workload.try_key, queue_name, task_id)

    def _revoke(self, app: Celery, command: _Revoke) -> None:
        try:
            app.control.revoke(command.task_id, terminate=True, signal="SIGTERM")
        except Exception as exc:
            log.error("could not revoke %s (%s): %s", command.key, command.task_id, self._scrub(str(exc)))
            return
        log.info("revoked %s (%s) with SIGTERM", command.key, command.task_id)

    def _poll(self, app: Celery) -> None:
        with self._lock:
            snapshot = [(key, entry.task_id) for key, entry in self._in_flight.items()]
        if not snapshot:
            return
        try:
            metas = fetch_states(app.backend, [task_id for _, task_id in snapshot])
        except Exception as exc:
            log.warning(
                "cannot read the Celery result backend %s (will retry): %s",
                mask_url(self._backend_url),
                self._scrub(str(exc)),
            )
            return
        for key, task_id in snapshot:
            status, result = metas[task_id]
            event = event_for_state(key, task_id, status, result)
            if event is None:
                continue
            with self._lock:
                entry = self._in_flight.get(key)
                if entry is None or entry.task_id != task_id:
                    continue
                if event.kind == TryProcessEvent.STARTED:
                    if entry.reported_running:
                        continue
                    entry.reported_running = True
                else:
                    del self._in_flight[key]
                    if entry.terminate_requested and event.reason:
                        event = dataclasses.replace(event, reason=f"{event.reason} (terminated on request)")
            self._emit(event)

    def _scrub(self, text: str) -> str:
        """Hide broker and backend passwords should a library put a URL into an error message."""
        for url in (self.celery_settings.broker_url.get_secret_value(), self._backend_url):
            text = text.replace(url, mask_url(url))
        return text


def fetch_states(backend: Any, task_ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
    """``task_id -> (status, result)``; one round trip for key-value backends (Redis), one per id else."""
    if isinstance(backend, BaseKeyValueStoreBackend):
        keys = [backend.get_key_for_task(task_id) for task_id in task_ids]
        values = backend.mget(keys)
        found: dict[str, tuple[str, Any]] = {}
        for task_id, value in zip(task_ids, values, strict=True):
            if value is None:
                found[task_id] = ("PENDING", None)
            else:
                meta = backend.decode_result(value)
                found[task_id] = (meta["status"], meta.get("result"))
        return found
    return {
        task_id: (meta["status"], meta.get("result"))
        for task_id, meta in ((task_id, backend.get_task_meta(task_id)) for task_id in task_ids)
    }


def create_executor(settings: Settings) -> CeleryExecutor:
    """The factory ``tradewind.executors.loader`` calls for ``core.executor = "celery"``."""
    return CeleryExecutor(settings.celery, parallelism=settings.core.parallelism)
