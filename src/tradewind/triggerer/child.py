"""The service's handle on its trigger child: start it without the database credentials, send it work,
read what it reports (on a thread, into a queue), and tell when it died."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from tradewind.config.settings import Settings
from tradewind.config.settings_handoff import settings_payload
from tradewind.config.task_settings import settings_for_tasks, task_environment
from tradewind.triggerer import protocol

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0


class TriggerChild:
    """One child process; ``messages`` receives its reports (dicts), then None when its pipe closes."""

    def __init__(self, settings: Settings, *, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.env = env
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._write_lock = threading.Lock()
        #: Called from the reader thread after each report (and after the last): wakes the service's loop.
        self.on_message: Callable[[], None] = _nothing

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        env = task_environment(self.env if self.env is not None else os.environ, self.settings)
        cmd = [sys.executable, "-m", "tradewind.triggerer.trigger_runner", "--events-fd", str(write_fd)]
        try:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                env=env,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            os.close(write_fd)
        assert self.process.stdin is not None
        # The settings without their secrets, exactly (nothing re-read from a file or the environment).
        self.process.stdin.write(settings_payload(settings_for_tasks(self.settings)).encode())
        self.process.stdin.flush()
        self._reader = threading.Thread(
            target=self._read, args=(read_fd,), name="triggerer-child-reader", daemon=True
        )
        self._reader.start()
        log.info("trigger child started (pid %d)", self.process.pid)

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                try:
                    self.messages.put(protocol.decode(line))
                except ValueError as exc:
                    log.error("unreadable line from the trigger child: %s", exc)
                    continue
                self.on_message()
        self.messages.put(None)
        self.on_message()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send(self, message: dict[str, Any]) -> bool:
        """False when the child is gone (it is restarted and given its triggers again)."""
        if self.process is None or self.process.stdin is None:
            return False
        with self._write_lock:
            try:
                self.process.stdin.write(protocol.encode(message))
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return False
        return True

    def stop(self) -> None:
        """Close its stdin (it cancels its triggers and exits); SIGKILL if it does not in time."""
        if self.process is None:
            return
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("trigger child %d did not stop; killing it", self.process.pid)
            self.process.kill()
            self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)


def _nothing() -> None:
    pass


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the triggerer dies, even by SIGKILL (Linux), so a triggerer that was
    replaced leaves no trigger child running its triggers a second time."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
