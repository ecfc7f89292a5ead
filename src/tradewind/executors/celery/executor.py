"""CeleryExecutor: sends each task try to Celery on its queue and reports what the result backend says."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
import select
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
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
from tradewind.executors.celery.result_channel import ResultChannel, States, sender_backend_url
from tradewind.executors.celery.task_ids import celery_task_id
from tradewind.executors.celery.worker_task import TASK_NAME
from tradewind.sdk.errors import ExecutorError

log = logging.getLogger(__name__)

#: Seconds between two reads of the result backend for the tries in flight, when its states are not published
#: (any backend but Redis).
DEFAULT_POLL_INTERVAL = 0.25
#: With a Redis result backend, whose states arrive over pub/sub as they are stored: seconds between two reads
#: of the backend, for what pub/sub lost (a reconnect). The scheduler's ``sync`` asks for one each heartbeat.
RESYNC_INTERVAL = 5.0
#: Seconds the result channel is left alone after an error (Redis down: no busy loop); it is read again then.
CHANNEL_RETRY_SECONDS = 1.0
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
        #: A pipe written on each command, so the client thread waits on the result channel and commands at
        #: once; (-1, -1) while stopped.
        self._wake_lock = threading.Lock()
        self._wake_r, self._wake_w = -1, -1
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
                app = build_celery_app(self.celery_settings)
                app.conf.result_backend = sender_backend_url(self._backend_url)
                self._app = app
            return self._app

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        with self._wake_lock:
            if self._wake_r < 0:
                self._wake_r, self._wake_w = os.pipe()
                os.set_blocking(self._wake_w, False)  # a full pipe wakes the thread all the same
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
            self._command(_Stop())
        else:
            self._stopping.set()
            self._command(_Poll())
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            if self._thread.is_alive():
                log.warning("the Celery executor's client thread did not finish within %ss", STOP_TIMEOUT)
            self._thread = None
        self._stopping.set()
        with self._wake_lock:
            for fd in (self._wake_r, self._wake_w):
                if fd >= 0:
                    os.close(fd)
            self._wake_r, self._wake_w = -1, -1
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
        self._command(_Send(workload, task_id))
        return task_id

    def terminate(self, key: TaskTryKey) -> None:
        with self._lock:
            entry = self._in_flight.get(key)
            if entry is not None:
                entry.terminate_requested = True
        task_id = entry.task_id if entry is not None else celery_task_id(key)
        self._command(_Revoke(key, task_id))

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
        self._command(_Poll())
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
        self._command(_Poll())
        return not_adopted

    def _command(self, command: _Send | _Revoke | _Poll | _Stop) -> None:
        self._commands.put(command)
        with self._wake_lock:
            if self._wake_w >= 0:
                with contextlib.suppress(BlockingIOError):
                    os.write(self._wake_w, b"x")

    def _emit_quietly(self, event: TaskEvent) -> None:
        """Report ``event`` without waking the scheduler: it is applied at its next tick, which the try's own
        claim through the execution API brings anyway. A STARTED changes no state, and a tick per try for
        it alone would cost more than the try's Celery round trip."""
        with self._events_lock:
            self._events.append(event)

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
        backend = app.backend
        channel = ResultChannel(backend) if isinstance(backend, RedisBackend) else None
        try:
            self._serve_with(app, epoch, channel)
        finally:
            if channel is not None:
                channel.close()

    def _serve_with(self, app: Celery, epoch: BrokerEpoch | None, channel: ResultChannel | None) -> None:
        """Wait for a command, a published state or the next read of the backend; carry out the commands in
        order (a ``_Stop`` ends the loop once those before it are done), then apply what was published."""
        interval = self.poll_interval if channel is None else max(self.poll_interval, RESYNC_INTERVAL)
        next_poll = next_broker_check = channel_retry_at = 0.0
        while not self._stopping.is_set():
            listening = channel is not None and time.monotonic() >= channel_retry_at
            if listening:
                self._wait(channel, until=next_poll)
            else:  # no channel, or one to try again at channel_retry_at
                self._wait(None, until=next_poll if channel is None else min(next_poll, channel_retry_at))
            commands = self._take_commands()
            polled_now = False
            # Before sending: the first state a worker publishes must find the try's channel followed.
            if listening and channel is not None and not self._on_channel(lambda: self._follow(channel)):
                listening, polled_now = False, True
                channel_retry_at = time.monotonic() + CHANNEL_RETRY_SECONDS
            for command in commands:
                if self._stopping.is_set():
                    break
                if isinstance(command, _Stop):
                    return
                if isinstance(command, _Send):
                    self._send(app, command)
                elif isinstance(command, _Revoke):
                    self._revoke(app, command)
                else:
                    polled_now = True
            if listening and channel is not None and not self._on_channel(lambda: self._read(channel)):
                polled_now = True
                channel_retry_at = time.monotonic() + CHANNEL_RETRY_SECONDS
            if epoch is not None and time.monotonic() >= next_broker_check:
                self._check_broker(epoch)
                next_broker_check = time.monotonic() + BROKER_CHECK_INTERVAL
            if polled_now or time.monotonic() >= next_poll:
                self._poll(app)
                broken = channel is not None and time.monotonic() < channel_retry_at
                next_poll = time.monotonic() + (self.poll_interval if broken else interval)

    def _wait(self, channel: ResultChannel | None, *, until: float) -> None:
        """Until a command comes, ``channel`` has something to read, or ``until`` (monotonic) passes."""
        if not self._commands.empty():
            return
        poller = select.poll()  # not select(): a scheduler may well have descriptors past FD_SETSIZE
        wake_r = self._wake_r
        fd = channel.fileno() if channel is not None else None
        for watched in (wake_r, fd):
            if watched is not None and watched >= 0:
                poller.register(watched, select.POLLIN)
        ready = poller.poll(max(0, int((until - time.monotonic()) * 1000) + 1))
        if any(ready_fd == wake_r for ready_fd, _ in ready):
            with contextlib.suppress(OSError):  # closed by stop(): the loop sees _stopping
                os.read(wake_r, 4096)

    def _take_commands(self) -> list[_Send | _Revoke | _Poll | _Stop]:
        commands: list[_Send | _Revoke | _Poll | _Stop] = []
        with contextlib.suppress(queue.Empty):
            while True:
                commands.append(self._commands.get_nowait())
        return commands

    def _follow(self, channel: ResultChannel) -> None:
        with self._lock:
            task_ids = [entry.task_id for entry in self._in_flight.values()]
        channel.follow(task_ids)

    def _read(self, channel: ResultChannel) -> None:
        states = channel.read()
        if states:
            self._apply_states(states)
            self._follow(channel)  # the ended tries' channels are left at once

    def _on_channel(self, step: Callable[[], None]) -> bool:
        """Run ``step`` on the result channel; False when Redis failed it: what was published meanwhile is
        lost, so the caller reads the backend instead, and leaves the channel alone for a while."""
        try:
            step()
        except Exception as exc:
            reason = self._scrub(str(exc))
            log.warning("the Celery result channel failed (reading the backend instead): %s", reason)
            return False
        return True

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
                store_sent(app.backend, task_id)
            app.tasks[TASK_NAME].apply_async(
                args=[workload.model_dump(mode="json")], queue=queue_name, task_id=task_id
            )
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
        self._apply_states(metas)

    def _apply_states(self, states: States) -> None:
        """Report what ``states`` say about the tries in flight; those ended are no longer carried."""
        if not states:
            return
        with self._lock:
            keys = {entry.task_id: key for key, entry in self._in_flight.items()}
        for task_id, (status, result) in states.items():
            key = keys.get(task_id)
            if key is None:
                continue
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
            if event.kind == TryProcessEvent.STARTED:
                self._emit_quietly(event)
            else:
                self._emit(event)

    def _scrub(self, text: str) -> str:
        """Hide broker and backend passwords should a library put a URL into an error message."""
        for url in (self.celery_settings.broker_url.get_secret_value(), self._backend_url):
            text = text.replace(url, mask_url(url))
        return text


def store_sent(backend: Any, task_id: str) -> None:
    """Record ``task_id`` as SENT, whatever an earlier send of the same try left there (a final result would
    be read as this send's outcome). Key-value backends (Redis): one write; Celery's ``store_result`` would
    first read the old result, which must then be forgotten if final (it never overwrites a success)."""
    if isinstance(backend, BaseKeyValueStoreBackend):
        meta: dict[str, Any] = {
            "status": SENT, "result": None, "traceback": None, "children": [], "date_done": None, "task_id": task_id,
        }  # fmt: skip
        backend.set(backend.get_key_for_task(task_id), backend.encode(meta))
        return
    if backend.get_task_meta(task_id, cache=False)["status"] in FINAL_STATES:
        backend.forget(task_id)
    backend.store_result(task_id, None, SENT)


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
