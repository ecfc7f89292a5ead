"""A warm parent (ADR 0017): a process started from the fork server that has imported one DAG file, and forks
each try of that file from itself, so the try does not import the file again.

Protocol, over one socket pair per warm parent: the parent sends "ready" once the file is imported (True) or
could not be (False). The executor then sends, per try, the workload and the environment (None when it is the
one sent with the previous try, the usual case: the parent keeps it), followed by the write end of a fresh pipe
(``send_handle``). The warm parent forks the try, writes its pid (8 bytes) into that pipe,
and once it has reaped the try its exit code (4 bytes), then closes the pipe. The pipe's read end is the try's
sentinel in the executor: readable when the try ended; EOF without an exit code means the warm parent died,
and then its tries die too (``PR_SET_PDEATHSIG``), so an unknown exit never hides a live try. When the
executor closes its end, the warm parent stops taking tries and exits after its last try is reaped: tries go
on when the scheduler dies, as tries forked from the fork server do.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import struct
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import recv_handle

from tradewind.config.settings import Settings
from tradewind.core.workload import ExecuteTask
from tradewind.executors.forked_exit import leave_forked_child
from tradewind.executors.try_launcher import ImportDagFile, RunTry

PID = struct.Struct("q")
EXIT_CODE = struct.Struct("i")
_PR_SET_PDEATHSIG = 1


def serve_warm_parent(
    import_dag_file: ImportDagFile,
    run: RunTry,
    settings: Settings,
    dag_rel_path: str,
    env: dict[str, str],
    conn: Connection,
) -> None:
    """The warm parent's main function (started by the fork server): import the file, then fork tries.

    It ignores SIGINT and SIGTERM: a Ctrl-C or a service manager's stop signals the whole process group, and
    its tries must stop gracefully on them, not be killed by their parent's death; it exits when the
    executor lets it go and its last try has ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(env)
    try:
        ready = import_dag_file(settings, dag_rel_path)
    except Exception:  # user code runs there; its error is reported again by each try that imports the file
        ready = False
    # Everything alive now is shared with the tries: keep the garbage collector from walking (and so copying)
    # those pages in every try.
    gc.freeze()
    conn.send(ready)
    if not ready:
        return
    _Forker(run, settings, conn, env).serve()


class _Forker:
    def __init__(self, run: RunTry, settings: Settings, conn: Connection, env: dict[str, str]) -> None:
        self.run = run
        self.settings = settings
        self.conn = conn
        #: pid of a running try -> the write end of its status pipe.
        self.children: dict[int, int] = {}
        #: What ``os.environ`` holds in this process (``env``, and what the DAG file's import changed): a try
        #: given the same environment keeps it as it is.
        self.started_env = dict(os.environ)
        #: The environment the tries get, as last sent by the executor (first the one this parent started with).
        self.env = env
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.prctl = _prctl()

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so SIGCHLD writes to the wake-up fd
        accepting = True
        while accepting or self.children:
            ready = wait([self.conn, self.wake_r] if accepting else [self.wake_r])
            if self.wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_r, 4096)
            if accepting and self.conn in ready:
                try:
                    workload_json, env = self.conn.recv()
                    status_fd = recv_handle(self.conn)
                except (EOFError, OSError):
                    accepting = False  # the executor is gone or let this parent go: finish the running tries
                else:
                    if env is not None:
                        self.env = env
                    self._fork(workload_json, self.env, status_fd)
            self._reap()

    def _fork(self, workload_json: str, env: dict[str, str], status_fd: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            self._in_try(parent, workload_json, env, status_fd)
        self.children[pid] = status_fd
        _write_all(status_fd, PID.pack(pid))

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            status_fd = self.children.pop(pid, None)
            if status_fd is not None:
                with contextlib.suppress(OSError):
                    _write_all(status_fd, EXIT_CODE.pack(os.waitstatus_to_exitcode(status)))
                os.close(status_fd)

    def _in_try(self, parent: int, workload_json: str, env: dict[str, str], status_fd: int) -> None:
        """In the forked try: drop the warm parent's descriptors and handlers, run the try, exit with its code."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            # The handlers of a try forked from the fork server (the warm parent ignores both).
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            for fd in (self.wake_r, self.wake_w, status_fd, *self.children.values()):
                os.close(fd)
            self.conn.close()
            if self.prctl is not None:
                self.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the warm parent died before the line above
                os._exit(1)
            if env != self.started_env:  # os.environ.clear() and update() cost ~1 ms: only when it changed
                os.environ.clear()
                os.environ.update(env)
            code = self.run(self.settings, ExecuteTask.model_validate_json(workload_json))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            leave_forked_child(code)


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    return prctl


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
