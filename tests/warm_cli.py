"""`tradewind` commands forked from one interpreter that has imported the CLI once: the conformance suite's
runner of many short commands, and ``run_tradewind`` for the integration tests' CLI calls.

A cold `tradewind dags test` spends about a second of CPU importing Tradewind (SQLAlchemy, the scheduler, the
runner, httpx) before it looks at its DAG; the Airflow-examples report runs about 80 of them. Here one process
per worker slot imports the command modules once, then forks a child per command that runs
``tradewind.cli.main.main(argv)`` exactly as the console script does: its own process, environment (the
request's, so its own TRADEWIND_HOME), stdin from /dev/null, stdout and stderr to files, process group, exit
code, and a normal interpreter exit (atexit handlers, non-daemon threads). What is shared is only what the
imports built; Tradewind does no work at import time, so a command reads its settings and database as a cold
one does. Process start and import of the real console script stay covered by the CLI tests.

``start_tradewind`` starts a long-running command (a scheduler, a triggerer) the same way and returns a
``WarmProcess``, which a test drives as the ``subprocess.Popen`` it stands for (pid, poll, wait, signals).

Protocol (one line of JSON each way per command, on the server's stdin and stdout):
``{"argv": [...], "env": {...}, "stdout": path, "stderr": path, "timeout": seconds}`` ->
``{"returncode": int}`` or ``{"timeout": true}`` (the child's process group was killed).
``{"argv": [...], "env": {...}, "stdout": path, "append": true, "detach": exit_path}`` (stderr to stdout) ->
``{"pid": int}`` at once; when that child ends, the server reaps it and writes its exit code to ``exit_path``.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

#: The command groups the tests run most, imported before the first fork, and what their commands import
#: lazily on the way: a scheduler's execution-API child (FastAPI, uvicorn, JWT), the PostgreSQL driver, the
#: runner's HTTP client and the params' JSON schema checks.
PRELOADED = ("tradewind.cli.main", "tradewind.cli.db", "tradewind.cli.dags", "tradewind.cli.dag_test",
             "tradewind.cli.dag_processor", "tradewind.cli.tasks", "tradewind.cli.jobs", "tradewind.cli.scheduler",
             "tradewind.cli.triggerer", "tradewind.api.execution.embedded", "psycopg",
             "sqlalchemy.dialects.postgresql.psycopg", "jwt", "httpx", "jsonschema")
#: The console script the commands stand for.
TRADEWIND = str(Path(sys.executable).with_name("tradewind"))
#: Variables read when an interpreter starts (or by the loader, before Python runs): a command whose
#: environment sets any of them differently from this process's runs cold, as its own interpreter.
STARTUP_PREFIXES = ("PYTHON", "LD_", "FAKETIME", "MALLOC")


def _wait(pid: int, timeout: float, detached: dict[int, tuple[int, str]]) -> dict[str, Any]:
    pidfd = os.pidfd_open(pid)
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([pidfd, *detached], [], [], max(left, 0))
            _reap(detached, ready)
            if pidfd in ready:
                break
            if left <= 0:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"timeout": True}
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return {"returncode": os.waitstatus_to_exitcode(status)}


def _child(request: dict[str, Any], channel: IO[str]) -> int:
    """In the forked child: become the command, as the console script would be, and return its exit code."""
    os.setpgid(0, 0)
    channel.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    mode = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if request.get("append") else os.O_TRUNC)
    target = os.open(request["stdout"], mode, 0o644)
    os.dup2(target, 1)
    os.close(target)
    if request.get("stderr") is None:
        os.dup2(1, 2)
    else:
        target = os.open(request["stderr"], mode, 0o644)
        os.dup2(target, 2)
        os.close(target)
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [TRADEWIND, *request["argv"]]
    sys.path[0] = str(Path(TRADEWIND).parent)  # the console script's own first entry, not the repo
    # The console script's __main__, not this server's: multiprocessing's fork server and spawn children
    # import the parent's main module again (by path for a script, by name for `-m tests.warm_cli`).
    script = types.ModuleType("__main__")
    script.__file__ = TRADEWIND
    sys.modules["__main__"] = script
    main = importlib.import_module("tradewind.cli.main").main
    return int(main(request["argv"]))


def serve() -> int:
    """Read requests from stdin until it closes; fork and run each one, answer on stdout. Detached children
    are reaped as they end, between and during requests (one loop over stdin and their pidfds)."""
    for name in PRELOADED:
        importlib.import_module(name)
    gc.freeze()
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # a stray print of the server's goes to stderr, never into the answers
    detached: dict[int, tuple[int, str]] = {}  # pidfd -> (pid, exit path)
    pending = b""
    while True:
        while b"\n" not in pending:
            ready, _, _ = select.select([0, *detached], [], [])
            _reap(detached, ready)
            if 0 in ready:
                chunk = os.read(0, 65536)
                if not chunk:
                    return 0
                pending += chunk
        line, pending = pending.split(b"\n", 1)
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            for pidfd in detached:
                os.close(pidfd)
            return _child(request, channel)
        if request.get("detach"):
            detached[os.pidfd_open(pid)] = (pid, request["detach"])
            answer: dict[str, Any] = {"pid": pid}
        else:
            answer = _wait(pid, float(request["timeout"]), detached)
        channel.write(json.dumps(answer) + "\n")
        channel.flush()


def _reap(detached: dict[int, tuple[int, str]], ready: list[int]) -> None:
    """Reap the detached children among ``ready`` and write each one's exit code (Popen's: -N for signal N)."""
    for pidfd in [fd for fd in ready if fd in detached]:
        pid, exit_path = detached.pop(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        partial = f"{exit_path}.partial"
        Path(partial).write_text(str(os.waitstatus_to_exitcode(status)))
        os.replace(partial, exit_path)


class WarmCli:
    """The client: one server process; ``run`` is ``subprocess.run([tradewind, *argv], ...)`` through it."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._server = subprocess.Popen(
            [sys.executable, "-m", "tests.warm_cli"],
            # Not a test's settings (a monkeypatched database URL, say): each request brings its environment.
            env={k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )

    def run(self, argv: list[str], *, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        assert self._server.stdin is not None and self._server.stdout is not None
        self._count += 1
        out, err = (self._scratch / f"{self._count}.{name}" for name in ("out", "err"))
        request = {"argv": argv, "env": env, "stdout": str(out), "stderr": str(err), "timeout": timeout}
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        answer = self._server.stdout.readline()
        if not answer:
            raise RuntimeError(f"the warm CLI server ended (exit code {self._server.wait()})")
        outcome = json.loads(answer)
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
        out.unlink()
        err.unlink()
        if outcome.get("timeout"):
            raise subprocess.TimeoutExpired(argv, timeout, stdout, stderr)
        return subprocess.CompletedProcess(argv, outcome["returncode"], stdout, stderr)

    def start(self, argv: list[str], *, env: dict[str, str], log: Path) -> WarmProcess:
        """``subprocess.Popen([tradewind, *argv], env=env, stdout=log (appended), stderr=STDOUT)``."""
        assert self._server.stdin is not None and self._server.stdout is not None
        # As with Popen, the log exists (and a bad path fails here) once this returns: the child opens it later.
        log.open("ab").close()
        self._count += 1
        exit_path = self._scratch / f"{self._count}.exit"
        request = {"argv": argv, "env": env, "stdout": str(log), "append": True, "detach": str(exit_path)}
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        answer = self._server.stdout.readline()
        if not answer:
            raise RuntimeError(f"the warm CLI server ended (exit code {self._server.wait()})")
        return WarmProcess([TRADEWIND, *argv], json.loads(answer)["pid"], exit_path)

    def close(self) -> None:
        assert self._server.stdin is not None
        self._server.stdin.close()
        self._server.wait(timeout=60)

    def __enter__(self) -> WarmCli:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self._server.kill()
            self._server.wait()


class WarmProcess:
    """A command the warm CLI server started and reaps, driven as the ``subprocess.Popen`` it stands for: its
    end is seen through a pidfd (any process may hold one), its exit code read from the file the server writes
    when it reaps it, signals sent through the pidfd (never to a reused pid)."""

    #: How long the server may take to reap an ended child and write its exit code.
    REAP_TIMEOUT = 30.0

    def __init__(self, args: Sequence[str], pid: int, exit_path: Path) -> None:
        self.args = list(args)
        self.pid = pid
        self.returncode: int | None = None
        self._exit_path = exit_path
        self._pidfd: int | None = os.pidfd_open(pid)

    def poll(self) -> int | None:
        return self._finish(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._finish(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return code

    def _finish(self, timeout: float | None) -> int | None:
        if self.returncode is not None:
            return self.returncode
        assert self._pidfd is not None
        if not select.select([self._pidfd], [], [], timeout)[0]:
            return None
        deadline = time.monotonic() + self.REAP_TIMEOUT
        while not self._exit_path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the warm CLI server never reaped process {self.pid}")
            select.select([], [], [], 0.01)  # the server reaps it as soon as it ends: a brief poll
        self.returncode = int(self._exit_path.read_text())
        self._exit_path.unlink()
        os.close(self._pidfd)
        self._pidfd = None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None and self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_shared: WarmCli | None = None
_shared_lock = threading.Lock()


def _startup(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(STARTUP_PREFIXES)}


def _server() -> WarmCli:
    """This process's warm CLI server (call with ``_shared_lock`` held): started at the first use."""
    global _shared
    if _shared is None:
        _shared = WarmCli(Path(tempfile.mkdtemp(prefix="tw-warm-cli-")))
        atexit.register(_shared.close)
    return _shared


def start_tradewind(
    argv: list[str], *, env: dict[str, str], log: Path, cold: bool = False
) -> subprocess.Popen[bytes] | WarmProcess:
    """``subprocess.Popen([tradewind, *argv], env=env, stdout=log (appended), stderr=STDOUT)``, forked from the
    warm CLI server; started cold when asked, or when ``env`` changes how an interpreter starts. (A forked
    command's /proc/PID/environ shows the server's initial environment, not ``env``.)"""
    if cold or _startup(env) != _startup(os.environ):
        with log.open("ab") as out:
            return subprocess.Popen([TRADEWIND, *argv], env=env, stdout=out, stderr=subprocess.STDOUT)
    with _shared_lock:
        return _server().start(argv, env=env, log=log)


def run_tradewind(
    argv: list[str], *, env: dict[str, str], timeout: float, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([tradewind, *argv], env=env, capture_output=True, text=True, timeout=timeout,
    check=check)``, forked from this test process's warm CLI server (started at the first call, stopped at
    exit), or run cold when ``env`` changes how an interpreter starts."""
    if _startup(env) != _startup(os.environ):
        return subprocess.run([TRADEWIND, *argv], env=env, capture_output=True, text=True, timeout=timeout,
                              check=check)  # fmt: skip
    with _shared_lock:
        done = _server().run(argv, env=env, timeout=timeout)
    if check and done.returncode:
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)
    return done


if __name__ == "__main__":
    sys.exit(serve())
