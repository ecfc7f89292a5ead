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

Protocol (one line of JSON each way per command, on the server's stdin and stdout):
``{"argv": [...], "env": {...}, "stdout": path, "stderr": path, "timeout": seconds}`` ->
``{"returncode": int}`` or ``{"timeout": true}`` (the child's process group was killed).
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
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

#: The command groups the tests run most, imported before the first fork.
PRELOADED = ("tradewind.cli.main", "tradewind.cli.db", "tradewind.cli.dags", "tradewind.cli.dag_test",
             "tradewind.cli.dag_processor", "tradewind.cli.tasks", "tradewind.cli.jobs")
#: Variables read when an interpreter starts (or by the loader, before Python runs): a command whose
#: environment sets any of them differently from this process's runs cold, as its own interpreter.
STARTUP_PREFIXES = ("PYTHON", "LD_", "FAKETIME", "MALLOC")


def _wait(pid: int, timeout: float) -> dict[str, Any]:
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    if not ready:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return {"timeout": True}
    _, status = os.waitpid(pid, 0)
    return {"returncode": os.waitstatus_to_exitcode(status)}


def _child(request: dict[str, Any], channel: IO[str]) -> int:
    """In the forked child: become the command, as the console script would be, and return its exit code."""
    os.setpgid(0, 0)
    channel.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    os.environ.clear()
    os.environ.update(request["env"])
    tradewind = str(Path(sys.executable).with_name("tradewind"))
    sys.argv = [tradewind, *request["argv"]]
    sys.path[0] = str(Path(tradewind).parent)  # the console script's own first entry, not the repo
    main = importlib.import_module("tradewind.cli.main").main
    return int(main(request["argv"]))


def serve() -> int:
    """Read requests from stdin until it closes; fork and run each one, answer on stdout."""
    for name in PRELOADED:
        importlib.import_module(name)
    gc.freeze()
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # a stray print of the server's goes to stderr, never into the answers
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            return _child(request, channel)
        channel.write(json.dumps(_wait(pid, float(request["timeout"]))) + "\n")
        channel.flush()
    return 0


class WarmCli:
    """The client: one server process; ``run`` is ``subprocess.run([tradewind, *argv], ...)`` through it."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._server = subprocess.Popen(
            [sys.executable, "-m", "tests.warm_cli"],
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


_shared: WarmCli | None = None
_shared_lock = threading.Lock()


def _startup(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(STARTUP_PREFIXES)}


def run_tradewind(
    argv: list[str], *, env: dict[str, str], timeout: float, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([tradewind, *argv], env=env, capture_output=True, text=True, timeout=timeout,
    check=check)``, forked from this test process's warm CLI server (started at the first call, stopped at
    exit), or run cold when ``env`` changes how an interpreter starts."""
    global _shared
    if _startup(env) != _startup(os.environ):
        tradewind = str(Path(sys.executable).with_name("tradewind"))
        return subprocess.run([tradewind, *argv], env=env, capture_output=True, text=True, timeout=timeout,
                              check=check)  # fmt: skip
    with _shared_lock:
        if _shared is None:
            _shared = WarmCli(Path(tempfile.mkdtemp(prefix="tw-warm-cli-")))
            atexit.register(_shared.close)
        done = _shared.run(argv, env=env, timeout=timeout)
    if check and done.returncode:
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)
    return done


if __name__ == "__main__":
    sys.exit(serve())
