"""The soak's deployment: two schedulers, a DAG processor, a triggerer, a webserver and, with the Celery
executor, two `tradewind celery worker` processes, each a real `tradewind` process restarted when it dies (as
systemd or Kubernetes would), and /proc read to find what to SIGKILL: a service, a scheduler's execution API
child, a Celery worker or one of its pool processes, the runner of a running try. Only processes started with
the deployment's TRADEWIND_HOME are ever killed (pids are reused)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
TRADEWIND = str(VENV_BIN / "tradewind")
#: Seconds a supervisor waits before starting a dead service again.
RESTART_DELAY = 1.0


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    died_at: float | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [TRADEWIND, *self.argv], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.starts += 1
        self.died_at = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None and self.popen.poll() is None else None


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cmdline: str


def processes() -> dict[int, Proc]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = (
                Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        found[int(entry)] = Proc(int(entry), int(fields[1]), cmdline)
    return found


class Deployment:
    """The services, started and kept running; ``kill(kind)`` SIGKILLs one process of a kind."""

    def __init__(
        self,
        home: Path,
        env: dict[str, str],
        api_ports: tuple[int, int],
        web_port: int,
        *,
        celery_workers: tuple[str, ...] = (),
    ) -> None:
        """``celery_workers``: the Celery hostname of each worker to run (none: no worker)."""
        self.home = home
        self.services: dict[str, Service] = {}
        for slot, port in enumerate(api_ports, start=1):
            self._add(f"scheduler-{slot}", ["scheduler"], env, TRADEWIND__EXECUTION_API__SERVE_PORT=str(port),
                      TRADEWIND__CORE__HOSTNAME=f"soak-scheduler-{slot}")  # fmt: skip
        self._add("dag-processor", ["dag-processor"], env)
        self._add("triggerer", ["triggerer"], env)
        self._add("webserver", ["webserver", "--port", str(web_port)], env)
        for slot, hostname in enumerate(celery_workers, start=1):
            self._add(f"celery-worker-{slot}", ["celery", "worker", "--hostname", hostname], env)

    def _add(self, name: str, argv: list[str], env: dict[str, str], **extra: str) -> None:
        self.services[name] = Service(name, argv, {**env, **extra}, self.home / f"{name}.log")

    def start(self) -> None:
        for service in self.services.values():
            service.start()

    def supervise(self) -> list[str]:
        """Start again each service dead for RESTART_DELAY; returns the names restarted."""
        restarted = []
        now = time.monotonic()
        for service in self.services.values():
            if service.pid is not None:
                continue
            if service.died_at is None:
                service.died_at = now
            elif now - service.died_at >= RESTART_DELAY:
                service.start()
                restarted.append(service.name)
        return restarted

    def schedulers(self) -> list[Service]:
        return [s for n, s in self.services.items() if n.startswith("scheduler-")]

    def celery_workers(self) -> list[Service]:
        return [s for n, s in self.services.items() if n.startswith("celery-worker-")]

    def kill(self, kind: str, rng: random.Random) -> str | None:
        """SIGKILL one service or execution API child of ``kind``; returns what was killed, or None if none is
        running now."""
        if kind in ("scheduler", "dag-processor", "triggerer", "webserver"):
            pool = self.schedulers() if kind == "scheduler" else [self.services[kind]]
            alive = [s for s in pool if s.pid is not None]
            if not alive:
                return None
            victim = rng.choice(alive)
            assert victim.pid is not None
            return self._kill(victim.pid, f"{victim.name} (pid {victim.pid})")
        procs = processes()
        scheduler_pids = {s.pid for s in self.schedulers() if s.pid is not None}
        if kind == "execution-api":
            children = [
                p for p in procs.values() if p.ppid in scheduler_pids and "execution-api" in p.cmdline
            ]
            if not children:
                return None
            child = rng.choice(children)
            return self._kill(child.pid, f"execution API child of pid {child.ppid} (pid {child.pid})")
        if kind == "celery-worker":
            return self._kill_celery_worker(procs, rng)
        raise ValueError(kind)

    def _kill_celery_worker(self, procs: dict[int, Proc], rng: random.Random) -> str | None:
        """SIGKILL a Celery worker (its pool processes die with it, their runners get SIGTERM), or, one time
        in three when it runs tries, one of its pool processes that carries a try (the worker lives on and
        requeues the message); a worker running tries is chosen first, so that most kills land mid-try."""
        alive = [s for s in self.celery_workers() if s.pid is not None]
        if not alive:
            return None
        pools = {s.name: [p for p in procs.values() if p.ppid == s.pid] for s in alive}
        busy = {
            name: [p for p in pool if any(c.ppid == p.pid for c in procs.values())]
            for name, pool in pools.items()
        }
        victim = rng.choice([s for s in alive if busy[s.name]] or alive)
        assert victim.pid is not None
        if busy[victim.name] and rng.random() < 1 / 3:
            pool_process = rng.choice(busy[victim.name])
            return self._kill(
                pool_process.pid, f"pool process of {victim.name} running a try (pid {pool_process.pid})"
            )
        return self._kill(
            victim.pid, f"{victim.name} (pid {victim.pid}, {len(busy[victim.name])} tries running)"
        )

    def kill_runner(self, claimed_pids: list[int], rng: random.Random) -> str | None:
        """SIGKILL the process that claimed a running try (its pid as the database records it), if it is
        one of this deployment's processes: whatever forks tries (fork server, warm parent), this is the
        runner."""
        ours = [pid for pid in claimed_pids if self._carries_home(pid)]  # pids are reused: check it is ours
        if not ours:
            return None
        pid = rng.choice(ours)
        return self._kill(pid, f"runner (pid {pid})")

    def _carries_home(self, pid: int) -> bool:
        """Whether the process was started with this deployment's home (its initial environment)."""
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"TRADEWIND_HOME={self.home}".encode() in environ

    @staticmethod
    def _kill(pid: int, what: str) -> str | None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return what

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every service (a graceful stop), then SIGKILL whatever is left of the deployment."""
        for service in self.services.values():
            if service.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(service.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in self.services.values():
            if service.popen is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    service.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        self.sweep()

    def sweep(self) -> None:
        """SIGKILL every process that carries this deployment's TRADEWIND_HOME (services, their children,
        runners a killed scheduler left behind). Only that: process and session ids are reused."""
        for proc in processes().values():
            if proc.pid != os.getpid() and self._carries_home(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
        for service in self.services.values():
            if service.popen is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    service.popen.wait(timeout=5)
