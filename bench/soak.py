"""Soak test (issue 18): a mixed workload on two schedulers, a DAG processor, a triggerer and a webserver,
on a PostgreSQL server of its own, while random faults hit it: SIGKILL of a scheduler, the DAG processor,
the triggerer, the webserver, a scheduler's execution API child or a running try; a PostgreSQL restart;
every connection to its database cut. With ``--executor celery`` the schedulers send tries to two
`tradewind celery worker` processes over a Redis queue of the soak's own, and SIGKILL of a worker (or of one
of its pool processes running a try) joins the faults. Killed services are started again as a supervisor
would. At the end it waits for every run to finish and checks, from the database and from the ledger each
task writes (one line per execution of its code), that nothing was lost or done twice.

    .venv/bin/python bench/soak.py [--executor local|celery] [--duration 30m] [--seed N]
                                   [--fault-interval 4-12] [--report FILE.json]

Prints the faults injected (per kind), the counts checked, and every violation with the task instance's
try history; exits 1 on any violation (or if the runs did not all finish within --drain-timeout), else 0.
Needs root (the private PostgreSQL server runs as the ``postgres`` user through runuser).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from soak_broker import DEFAULT_REDIS_URL, SoakBroker
from soak_check import Verdict, check
from soak_services import TRADEWIND, Deployment
from soak_workload import FINAL_PHASE, Workload
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.tables import TaskInstanceModel
from tradewind.testing.private_postgres import PrivatePostgres, available

FAULT_KINDS = (
    "scheduler", "dag-processor", "triggerer", "webserver", "execution-api", "runner",
    "postgres-restart", "connection-cut",
)  # fmt: skip
#: What the Celery leg adds: SIGKILL of a worker or of a pool process running a try.
CELERY_FAULT_KINDS = ("celery-worker",)
CELERY_WORKERS = 2
DATABASE = "tw_soak"
#: Seconds between two status lines.
STATUS_EVERY = 60.0


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _interval(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path, url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
        "TRADEWIND_HOME": str(home),
        "TRADEWIND_ADMIN_PASSWORD": "soak-admin-password",
        "TRADEWIND__DATABASE__URL": url,
        "TRADEWIND__CORE__LOAD_EXAMPLES": "false",
        "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
        "TRADEWIND__CORE__PARALLELISM": "6",
        "TRADEWIND__SCHEDULER__STANDALONE_DAG_PROCESSOR": "true",
        "TRADEWIND__SCHEDULER__HEARTBEAT_INTERVAL": "1",
        "TRADEWIND__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "10",
        "TRADEWIND__SCHEDULER__ZOMBIE_THRESHOLD": "20",
        "TRADEWIND__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
        "TRADEWIND__TRIGGERER__HEARTBEAT_INTERVAL": "1",
        "TRADEWIND__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "5",
        "TRADEWIND__LOGGING__LEVEL": "INFO",
    }


class Soak:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.root = root
        self.home = root / "home"
        (self.home / "dags").mkdir(parents=True)
        if not available():
            raise SystemExit(
                "the soak runs its own PostgreSQL: it needs root (for runuser), a postgres user and initdb"
            )
        self.pg = PrivatePostgres(root / "pg")
        self.broker = SoakBroker(args.redis_url) if args.executor == "celery" else None
        self.kinds = FAULT_KINDS + (CELERY_FAULT_KINDS if self.broker is not None else ())
        self.faults: Counter[str] = Counter()
        self.sessions: sessionmaker[Session] | None = None
        self.began = time.monotonic()

    def say(self, text: str) -> None:
        print(f"{time.monotonic() - self.began:7.1f}s  {text}", flush=True)

    def run(self) -> int:
        self.pg.start()
        url = self.pg.create_database(DATABASE)
        env = _env(self.home, url)
        if self.broker is not None:
            self.broker.check()
            env.update(self.broker.env())
        subprocess.run([TRADEWIND, "db", "migrate"], env=env, check=True, capture_output=True)
        engine = make_engine(url)
        self.sessions = sessions = make_session_factory(engine)
        workload = Workload(sessions, self.rng, runs_per_dag=self.args.runs_per_dag)
        workload.write(self.home / "dags")
        workers = self.broker.worker_hostnames(CELERY_WORKERS) if self.broker is not None else ()
        deployment = Deployment(
            self.home, env, (_free_port(), _free_port()), _free_port(), celery_workers=workers
        )
        try:
            deployment.start()
            if not self._wait(workload.parsed, 120, "the soak DAGs to be parsed", deployment):
                raise SystemExit(f"the soak DAGs were not parsed; see {self.home}/dag-processor.log")
            self.say(f"deployment up (home {self.home}); workload and faults for {self.args.duration:g} s")
            self._soak(deployment, workload)
            self.say(f"faults stopped; waiting up to {self.args.drain_timeout:g} s for the runs to finish")
            drained = self._wait(
                lambda: workload.active_runs() == 0,
                self.args.drain_timeout,
                "every run to finish",
                deployment,
            )
            self.say("every run finished" if drained else "giving up on the unfinished runs")
            deployment.stop()
            verdict = check(sessions, self.home / "ledger.txt", FINAL_PHASE)
        finally:
            deployment.stop()
            if self.broker is not None:
                self.broker.clean(self._tries_sent())
            engine.dispose()
        return self._report(verdict, drained, workload)

    def _tries_sent(self) -> list[TaskTryKey]:
        """Every try a scheduler may have sent (their Celery results are the soak's to delete)."""
        assert self.sessions is not None
        with contextlib.suppress(SQLAlchemyError), self.sessions() as session:
            rows = session.execute(
                select(TaskInstanceModel.dag_id, TaskInstanceModel.run_id, TaskInstanceModel.task_id,
                       TaskInstanceModel.map_index, TaskInstanceModel.try_number)
            ).all()  # fmt: skip
            return [
                TaskTryKey(TaskInstanceKey(d, r, t, m), n)
                for d, r, t, m, last in rows
                for n in range(1, last + 1)
            ]
        return []

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str, deployment: Deployment) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in deployment.supervise():
                self.say(f"supervisor: started {name} again")
            try:
                if ready():
                    return True
            except SQLAlchemyError:
                pass
            time.sleep(0.5)
        self.say(f"TIMED OUT waiting for {what}")
        return False

    def _soak(self, deployment: Deployment, workload: Workload) -> None:
        low, high = self.args.fault_interval
        end = time.monotonic() + self.args.duration
        # Past the duration, only the kinds not injected yet, for at most --every-kind-within more seconds (on
        # a loaded machine each fault takes longer, and a try may not be running when its turn comes).
        last = end + self.args.every_kind_within
        next_fault = time.monotonic() + self.rng.uniform(low, high)
        pending: list[str] = []
        next_status = time.monotonic() + STATUS_EVERY
        while (now := time.monotonic()) < end or (now < last and self._kinds_missing()):
            if now >= end:
                pending = [kind for kind in pending if not self.faults[kind]] or self._kinds_missing()
            for name in deployment.supervise():
                self.say(f"supervisor: started {name} again")
            workload.top_up()
            if time.monotonic() >= next_status:
                self.say(
                    f"status: {len(workload.triggered)} runs triggered, {sum(self.faults.values())} faults"
                )
                next_status += STATUS_EVERY
            if time.monotonic() >= next_fault:
                if not pending:
                    pending = list(self.kinds)
                    self.rng.shuffle(pending)
                kind = pending.pop(0)
                done = self._inject(kind, deployment)
                if done is None:
                    pending.append(kind)  # nothing of that kind running now: later
                else:
                    self.faults[kind] += 1
                    self.say(f"fault: {done}")
                next_fault = time.monotonic() + self.rng.uniform(low, high)
            time.sleep(0.25)

    def _kinds_missing(self) -> list[str]:
        return [kind for kind in self.kinds if not self.faults[kind]]

    def _inject(self, kind: str, deployment: Deployment) -> str | None:
        if kind == "postgres-restart":
            return f"PostgreSQL restarted ({self.pg.restart():.1f} s without connections)"
        if kind == "connection-cut":
            return f"{self.pg.cut_connections(DATABASE)} connections to {DATABASE} terminated"
        if kind == "runner":
            assert self.sessions is not None
            try:
                with self.sessions() as session:
                    pids = session.scalars(
                        select(TaskInstanceModel.pid).where(
                            TaskInstanceModel.state == "running", TaskInstanceModel.pid.is_not(None)
                        )
                    ).all()
            except SQLAlchemyError:
                return None
            killed = deployment.kill_runner([p for p in pids if p is not None], self.rng)
        else:
            killed = deployment.kill(kind, self.rng)
        return None if killed is None else f"SIGKILL {killed}"

    def _report(self, verdict: Verdict, drained: bool, workload: Workload) -> int:
        ok = drained and not verdict.violations
        print(f"\nsoak: {' '.join(sys.argv)}")
        print(
            f"faults injected: {sum(self.faults.values())} "
            + ", ".join(f"{k} {self.faults[k]}" for k in self.kinds)
        )
        print(
            f"checked: {verdict.runs} runs ({dict(verdict.run_states)}), {verdict.task_instances} task instances, "
            f"{verdict.tries} tries ({verdict.first_try_successes} succeeded at the first try, {verdict.retried} "
            f"retried), {verdict.ledger_lines} ledger lines; {workload.trigger_errors} triggers retried"
        )
        for reason, count in verdict.outcomes_lost.most_common():
            print(f"tries whose code returned but recorded failed (retried): {count} x {reason}")
        for violation in verdict.violations:
            print(f"VIOLATION {violation}")
        print(
            f"result: {'PASS' if ok else 'FAIL'}"
            + ("" if drained else " (runs still unfinished at the deadline)")
        )
        if self.args.report:
            Path(self.args.report).write_text(json.dumps({
                "ok": ok, "drained": drained, "executor": self.args.executor, "faults": dict(self.faults),
                "runs": verdict.runs,
                "task_instances": verdict.task_instances, "tries": verdict.tries,
                "ledger_lines": verdict.ledger_lines, "violations": verdict.violations,
                "outcomes_lost": dict(verdict.outcomes_lost),
            }, indent=2))  # fmt: skip
        return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=_duration, default=_duration("3m"), help="faults and workload (30m, 90s)"
    )
    parser.add_argument(
        "--executor", choices=("local", "celery"), default="local", help="what the schedulers run tries with"
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="the Celery leg's broker (a queue of its own is used)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument(
        "--fault-interval", type=_interval, default=(4.0, 12.0), help="seconds between faults, LOW-HIGH"
    )
    parser.add_argument(
        "--drain-timeout", type=_duration, default=180.0, help="how long the runs may take to finish"
    )
    parser.add_argument(
        "--every-kind-within", type=_duration, default=0.0, metavar="DURATION",
        help="after --duration, go on injecting the kinds not injected yet, for at most this long",
    )  # fmt: skip
    parser.add_argument("--runs-per-dag", type=int, default=2, help="runs of each soak DAG kept in flight")
    parser.add_argument("--report", help="also write the figures and violations to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the soak's folder (logs, ledger, database)")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    print(f"soak seed {args.seed}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="tw-soak-"))
    root.chmod(0o755)  # the PostgreSQL server, run as the postgres user, reaches its folder inside
    soak = Soak(args, root)
    try:
        return soak.run()
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            soak.pg.stop()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
