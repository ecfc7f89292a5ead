"""The local executor's side of warm parents (ADR 0017): at most ``limit`` of them, one per DAG file, least
recently used let go first, replaced when their file changes; a try started from one is a ``WarmTry``."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import time
from collections import OrderedDict
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from multiprocessing.reduction import send_handle
from pathlib import Path

from tradewind.config.settings import Settings
from tradewind.core.file_stamps import file_stamp
from tradewind.executors.try_launcher import TryLauncher
from tradewind.executors.warm_parent import EXIT_CODE, PID, serve_warm_parent
from tradewind.sdk.errors import ExecutorError

log = logging.getLogger(__name__)
#: The exit code reported for a try whose warm parent died before it could say: its tries die with it, by the
#: SIGKILL of ``PR_SET_PDEATHSIG``.
LOST_EXIT_CODE = -signal.SIGKILL
#: A warm parent no try has used for this long is let go (its memory back), at the executor's next ``sync``.
IDLE_SECONDS = 120.0


@dataclass
class WarmTry:
    """A try sent to a warm parent: its pid once forked, and the pipe the pid and then its exit code arrive
    on (the sentinel). A try sent to a parent still importing its file waits there; its pid comes when the
    parent forks it, and never (``never_started``) when the parent could not import the file or died first:
    the executor then starts it another way, as no runner of it ever ran."""

    pid: int | None
    sentinel: int
    exitcode: int | None = None
    never_started: bool = False

    def poll(self) -> int | None:
        """The exit code once the try has ended (read once, then the pipe is closed); None while it runs or
        waits to be forked. Reads the pid first when it has come (``pid``)."""
        if self.exitcode is None and self.sentinel >= 0:
            ready, _, _ = select.select([self.sentinel], [], [], 0)
            if ready and self.pid is None:
                data = _read_exact(self.sentinel, PID.size)
                if not data:  # the parent is gone without forking it
                    self.never_started = True
                    self.exitcode = LOST_EXIT_CODE
                    self._close()
                    return self.exitcode
                self.pid = PID.unpack(data)[0]
                ready, _, _ = select.select([self.sentinel], [], [], 0)
            if ready:
                data = _read_exact(self.sentinel, EXIT_CODE.size)
                self.exitcode = EXIT_CODE.unpack(data)[0] if data else LOST_EXIT_CODE
                self._close()
        return self.exitcode

    def join(self) -> int:
        while self.poll() is None:
            select.select([self.sentinel], [], [])
        assert self.exitcode is not None
        return self.exitcode

    def _close(self) -> None:
        os.close(self.sentinel)
        self.sentinel = -1


class _WarmParent:
    def __init__(
        self,
        ctx: ForkServerContext,
        launcher: TryLauncher,
        settings: Settings,
        rel_path: str,
        env: dict[str, str],
    ) -> None:
        assert launcher.import_dag_file is not None
        self.stamp = _stamp(settings, rel_path)
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(
            target=serve_warm_parent,
            args=(launcher.import_dag_file, launcher.run, settings, rel_path, env, child_conn),
            name=f"tradewind-warm-parent {rel_path}",
        )
        self.process.start()
        child_conn.close()
        #: The environment this parent gives its tries (sent again only when it changes).
        self.env = env
        #: None until the parent said whether it imported the file.
        self.ready: bool | None = None
        self.started_at = self.last_used = time.monotonic()

    def usable(self) -> bool:
        if self.ready is None and self.conn.poll():
            try:
                self.ready = bool(self.conn.recv())
            except (EOFError, OSError):
                self.ready = False
        return bool(self.ready) and self.process.is_alive()

    def died(self) -> bool:
        """It had imported the file and is gone (killed, crashed)."""
        return self.usable() is False and self.ready is True

    def importing(self) -> bool:
        """It is still importing its file (tries sent now wait for it)."""
        self.usable()  # takes its "ready" if it came
        return self.ready is None and self.process.is_alive()

    def start_try(self, workload_json: str, env: dict[str, str], *, wait_for_pid: bool = True) -> WarmTry:
        """Send it the try. With ``wait_for_pid`` (a parent that is ready) return once it has forked the try;
        else at once, the pid to come on the try's pipe."""
        read_end, write_end = os.pipe()
        try:
            self.conn.send((workload_json, None if env == self.env else env))
            send_handle(self.conn, write_end, self.process.pid)
            self.env = env
        except OSError as exc:
            os.close(read_end)
            raise ExecutorError(f"the warm parent of {self.process.name} is gone: {exc!r}") from exc
        finally:
            os.close(write_end)
        if not wait_for_pid:
            return WarmTry(None, read_end)
        data = _read_exact(read_end, PID.size)
        if not data:
            os.close(read_end)
            raise ExecutorError(f"the warm parent {self.process.name} died before forking the try")
        return WarmTry(PID.unpack(data)[0], read_end)

    def close(self) -> None:
        """Let it go: it takes no more tries and exits once its running tries have ended. One still importing
        its file (it may hang there) is killed: the tries waiting there never started, and start cold."""
        pid = self.process.pid
        if self.ready is None and pid is not None and not self.conn.poll():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.conn.close()
        with contextlib.suppress(ValueError):
            self.process.close()  # fails while it runs; multiprocessing reaps it later


class WarmParents:
    """Warm parents by DAG file, the least recently used let go first beyond ``limit``."""

    def __init__(self, ctx: ForkServerContext, launcher: TryLauncher, settings: Settings, limit: int) -> None:
        self.ctx = ctx
        self.launcher = launcher
        self.settings = settings
        self.limit = limit
        self._parents: OrderedDict[str, _WarmParent] = OrderedDict()

    def start_try(self, rel_path: str, workload_json: str, env: dict[str, str]) -> WarmTry | None:
        """Fork the try from its file's warm parent; None when it cannot (the try starts cold). A parent is
        started at the first try of a file, and again when the file changed or the parent died; tries sent
        while it imports the file wait for it there (a cold try would import the file too, in parallel with
        it). One that could not import the file is not tried again until the file changes."""
        stamp = _stamp(self.settings, rel_path) if rel_path and self.limit > 0 else None
        if stamp is None:
            return None
        parent = self._parents.get(rel_path)
        if parent is not None and (parent.stamp != stamp or parent.died()):
            self._let_go(rel_path)
            parent = None
        if parent is None:
            parent = self._start_parent(rel_path, env)
            if parent is None:
                return None
        self._parents.move_to_end(rel_path)
        parent.last_used = time.monotonic()
        ready = parent.usable()
        if not ready and not parent.importing():
            return None
        try:
            return parent.start_try(workload_json, env, wait_for_pid=ready)
        except ExecutorError as exc:
            log.warning("%s; starting the try from the fork server", exc)
            self._let_go(rel_path)
            return None

    def _start_parent(self, rel_path: str, env: dict[str, str]) -> _WarmParent | None:
        try:
            parent = self._parents[rel_path] = _WarmParent(self.ctx, self.launcher, self.settings, rel_path, env)
        except (EOFError, OSError) as exc:  # the fork server died: the try's own start restarts it
            log.warning("could not start a warm parent for %s: %r", rel_path, exc)
            return None
        while len(self._parents) > self.limit:
            self._let_go(next(iter(self._parents)))
        return parent

    def stop_slow_imports(self, timeout: float) -> None:
        """Let go of parents that have been importing their file for over ``timeout`` seconds (the DAG
        processor's own limit for a file): the tries waiting there never started, and start cold instead."""
        cutoff = time.monotonic() - timeout
        for rel_path, parent in list(self._parents.items()):
            if parent.started_at < cutoff and parent.importing():
                log.warning("the warm parent of %s is still importing it after %g s; letting it go", rel_path, timeout)
                self._let_go(rel_path)

    def ready(self, rel_path: str) -> bool:
        """Whether the next try of ``rel_path`` forks from a warm parent."""
        parent = self._parents.get(rel_path)
        return parent is not None and parent.stamp == _stamp(self.settings, rel_path) and parent.usable()

    def _let_go(self, rel_path: str) -> None:
        parent = self._parents.pop(rel_path, None)
        if parent is not None:
            parent.close()

    def let_go_idle(self) -> None:
        """Let go of the warm parents no try has used for ``IDLE_SECONDS``."""
        cutoff = time.monotonic() - IDLE_SECONDS
        for rel_path in [p for p, parent in self._parents.items() if parent.last_used < cutoff]:
            self._let_go(rel_path)

    def close(self) -> None:
        for rel_path in list(self._parents):
            self._let_go(rel_path)


def _stamp(settings: Settings, rel_path: str) -> tuple[int, int] | None:
    return file_stamp(Path(settings.dags_folder) / rel_path)


def _read_exact(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd``, or b"" at EOF before them (the writer died)."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data
