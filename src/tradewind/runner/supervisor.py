"""Watching a running try: its log file, the heartbeat thread, and SIGTERM turned into TaskTerminated."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from tradewind.config.settings import Settings
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import task_log_path
from tradewind.runner.alarm import Alarm
from tradewind.runner.interrupts import TaskTerminated, in_main_thread

#: Called by the heartbeat thread. Returns None while the try is still ours, else the state label someone
#: else set ("none" after a clear, "success" or "failed" after a user marked it, ...).
Heartbeat = Callable[[], str | None]


def try_log_path(settings: Settings, key: TaskInstanceKey, try_number: int) -> Path:
    return task_log_path(settings.base_log_folder, key, try_number)


class Supervisor:
    """Heartbeats a running try and stops it when asked to.

    SIGTERM (executor terminate, pod deletion, or ourselves after the heartbeat found the try taken away)
    raises TaskTerminated in the main thread, but only inside ``user_code()``: the runner's own database
    writes are never interrupted halfway; a signal received outside is remembered and raised on entry.
    """

    def __init__(
        self, *, heartbeat: Heartbeat, interval: float, log: logging.Logger, alarm: Alarm | None = None
    ) -> None:
        self._heartbeat = heartbeat
        self._interval = interval
        self._log = log
        #: Starts the heartbeat thread when it rings (due one interval after the try started: a shorter try
        #: never starts the thread); None: the thread starts with the supervisor.
        self._alarm = alarm
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._previous_handlers: dict[int, Any] = {}
        self._in_user_code = False
        self._raised = False
        #: Why the try must stop (set by SIGTERM or the heartbeat); None while it may run.
        self.terminate_reason: str | None = None
        #: The state someone else gave the try while it ran, as reported by the heartbeat.
        self.external_state: str | None = None

    # -- life-cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        if in_main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
        if self._alarm is None:
            self._start_beating(self._interval)
        else:
            self._alarm.set(lambda: self._start_beating(0.0))

    def _start_beating(self, first_wait: float) -> None:
        with self._thread_lock:
            if self._stop.is_set() or self._thread is not None:
                return
            self._thread = threading.Thread(target=self._beat, args=(first_wait,), name="heartbeat", daemon=True)
            self._thread.start()

    def stop_heartbeat(self) -> None:
        """Stop beating before the runner writes the final state (a beat after it would read the final
        state as set by someone else). Signal handling stays until ``stop()``."""
        self._stop.set()
        with self._thread_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def stop(self) -> None:
        self.stop_heartbeat()
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers.clear()

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- termination --------------------------------------------------------------------------------
    @property
    def terminating(self) -> bool:
        return self.terminate_reason is not None

    @contextmanager
    def user_code(self) -> Iterator[None]:
        """Task code runs inside this block; a termination raises TaskTerminated into it (once)."""
        if self.terminate_reason is not None and not self._raised:
            self._raised = True
            raise TaskTerminated(self.terminate_reason)
        self._in_user_code = True
        try:
            yield
        finally:
            self._in_user_code = False

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.terminate_reason is None:
            self.terminate_reason = f"terminated by {signal.Signals(signum).name}"
            self._log.warning("received %s; terminating", signal.Signals(signum).name)
        if self._in_user_code and not self._raised:
            self._raised = True
            raise TaskTerminated(self.terminate_reason)

    # -- heartbeat ----------------------------------------------------------------------------------
    def _beat(self, first_wait: float) -> None:
        wait = first_wait
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                external = self._heartbeat()
            except Exception as exc:  # a database hiccup must not kill the try; the next beat retries
                self._log.warning("heartbeat failed: %s", exc)
                continue
            if external is None:
                continue
            self.external_state = external
            self.terminate_reason = f"state externally set to {external}"
            self._log.warning("state externally set to %s; terminating", external)
            if self._previous_handlers:
                os.kill(os.getpid(), signal.SIGTERM)
            return
