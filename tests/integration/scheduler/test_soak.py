"""The short soak (bench/soak.py, issue 18): a mixed workload on two schedulers, once with the local executor and
once with the Celery executor (two workers on Redis), while every kind of fault hits it (SIGKILL of each
component, of Celery workers and of running tries, PostgreSQL restarts, cut connections); nothing is lost or
run twice, and every run ends as its tasks imply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from bench.soak_check import check

from tests.migrated_databases import migrate_database
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.tables import DagRunModel, TaskInstanceHistoryModel, TaskInstanceModel

SOAK = Path(__file__).resolve().parents[3] / "bench" / "soak.py"
INITDB = Path("/usr/lib/postgresql/15/bin/initdb")
FAULT_KINDS = {
    "scheduler", "dag-processor", "triggerer", "webserver", "execution-api", "runner",
    "postgres-restart", "connection-cut",
}  # fmt: skip
CELERY_FAULT_KINDS = {"celery-worker"}
REDIS_URL = "redis://127.0.0.1:6379/13"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _start_leg(executor: str, folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir()
    with (folder / "output.txt").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, str(SOAK), "--executor", executor, "--redis-url", REDIS_URL, "--duration", "35",
             "--fault-interval", "1-2.5", "--every-kind-within", "60", "--drain-timeout", "100", "--seed", "18",
             "--report", str(folder / "soak.json")],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _stop(soak: subprocess.Popen[bytes]) -> None:
    """Interrupt a soak still running: SIGINT lets it stop its deployment and its PostgreSQL server."""
    if soak.poll() is None:
        soak.send_signal(signal.SIGINT)
        try:
            soak.wait(timeout=60)
        except subprocess.TimeoutExpired:
            soak.kill()
            soak.wait()


def _check_leg(executor: str, soak: subprocess.Popen[bytes], folder: Path, expected: set[str]) -> None:
    try:
        code = soak.wait(timeout=230)
    finally:
        _stop(soak)
    output = (folder / "output.txt").read_text(errors="replace")
    assert code == 0, f"{executor} leg:\n{output[-20000:]}"
    figures = json.loads((folder / "soak.json").read_text())
    assert figures["violations"] == [] and figures["drained"], figures
    assert {kind for kind, count in figures["faults"].items() if count > 0} == expected, figures["faults"]
    assert figures["runs"] >= 10 and figures["ledger_lines"] > figures["runs"]


# The two legs run at once (each deployment, database and queue is its own), so together they take about the
# time one soak of 90 s took; faults come twice as often as in that soak, so each leg still meets every kind
# (each round goes through every kind in a random order).
@pytest.mark.timeout(300)
@pytest.mark.skipif(
    os.geteuid() != 0 or not INITDB.exists(), reason="the soak's own PostgreSQL needs root and initdb"
)
def test_short_soak_loses_nothing_under_every_kind_of_fault(tmp_path: Path) -> None:
    celery = _redis_answers()
    local_leg = _start_leg("local", tmp_path / "local")
    celery_leg = _start_leg("celery", tmp_path / "celery") if celery else None
    try:
        _check_leg("local", local_leg, tmp_path / "local", FAULT_KINDS)
        if celery_leg is not None:
            _check_leg("celery", celery_leg, tmp_path / "celery", FAULT_KINDS | CELERY_FAULT_KINDS)
    finally:
        for leg in (local_leg, celery_leg):
            if leg is not None:
                _stop(leg)
    if celery_leg is None:
        pytest.skip(f"the local leg passed; the Celery leg needs Redis at {REDIS_URL}")


def test_the_soak_verdict_names_each_kind_of_loss(tmp_path: Path) -> None:
    """The checker itself: a try whose code ran twice, code run in a try the database does not know, a
    success without its code, a try left running and a run whose state its tasks contradict are each named
    with the task instance's try history; a clean retry (failed try 1 with a reason, try 2 success) is not."""
    url = f"sqlite:///{tmp_path / 'soak.db'}"
    migrate_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(sessions) as session:
        for run_id, state in (("ok", "success"), ("bad", "success")):
            session.add(
                DagRunModel(dag_id="d", run_id=run_id, run_type="manual", state=state, logical_date=now)
            )
        for run_id, task_id, state, tries in (
            ("ok", "retried", "success", 2), ("ok", "once", "success", 1), ("bad", "twice", "success", 1),
            ("bad", "ghost", "success", 1), ("bad", "silent", "success", 1), ("bad", "stuck", "running", 1),
        ):  # fmt: skip
            session.add(
                TaskInstanceModel(dag_id="d", run_id=run_id, task_id=task_id, state=state, try_number=tries)
            )
        session.add(TaskInstanceHistoryModel(
            dag_id="d", run_id="ok", task_id="retried", try_number=1, state="failed", state_reason="killed by SIGKILL"
        ))  # fmt: skip
    ledger = tmp_path / "ledger.txt"
    lines = [("ok", "retried", 1), ("ok", "retried", 2), ("ok", "once", 1), ("bad", "twice", 1),
             ("bad", "twice", 1), ("bad", "ghost", 1), ("bad", "ghost", 2), ("bad", "stuck", 1)]  # fmt: skip
    ledger.write_text("".join(f"d {run} {task} -1 {n} run 1\n" for run, task, n in lines))
    verdict = check(sessions, ledger, {})
    engine.dispose()
    assert (verdict.runs, verdict.task_instances, verdict.ledger_lines) == (2, 6, 8)
    assert all(" in ok" not in v and "run d ok" not in v for v in verdict.violations), verdict.violations
    expected = [
        "run d bad is success but its tasks imply",  # a task instance still running: not a finished run
        "d.ghost in bad: code ran (run) in try 2, which the database does not record",
        "d.silent in bad: try 1 succeeded but its code (run) ran 0 times",
        "d.stuck in bad: left running",
        "d.twice in bad: code (run) ran 2 times in try 1 [try 1: success; ran run x2]",
    ]
    for fragment in expected:
        assert any(fragment in v for v in verdict.violations), (fragment, verdict.violations)
