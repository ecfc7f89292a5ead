"""The soak's workload: one DAG file of fan-outs, chains, retries by design, mapped tasks, a sensor in
reschedule mode and a deferrable task; each task appends one line to the ledger per execution of its own
code (``dag run task map_index try phase pid``), and the soak keeps a few runs of each DAG in flight."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.core.states import FINISHED_DAG_RUN_STATES
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run
from tradewind.store.tables import DagModel, DagRunModel

DAG_FILE = '''
"""Soak workload (bench/soak.py): each task's code appends one line to the ledger per execution."""
import os
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tradewind import DAG, BaseOperator, PythonOperator, chain, task
from tradewind.sdk.sensors.python import PythonSensor
from tradewind.sdk.triggers.temporal import TimeDeltaTrigger

LEDGER = Path(__file__).resolve().parent.parent / "ledger.txt"
START = datetime(2026, 1, 1)
DEFAULTS = {"retries": 4, "retry_delay": timedelta(seconds=1)}


def note(ti, phase):
    line = f"{ti.dag_id} {ti.run_id} {ti.task_id} {ti.map_index} {ti.try_number} {phase} {os.getpid()}\\n"
    fd = os.open(LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # O_APPEND: one whole line per write
    finally:
        os.close(fd)


def work(ti):
    """Half a second to two seconds, fixed per task, so kills land while task code runs; "end" marks the
    code's return (a try recorded failed after it lost an outcome)."""
    note(ti, "run")
    time.sleep(0.5 + (zlib.crc32(f"{ti.task_id}{ti.map_index}".encode()) % 150) / 100)
    note(ti, "end")


def flaky(ti):
    note(ti, "run")
    time.sleep(0.5)
    if ti.try_number == 1:
        raise RuntimeError("fails on its first try by design")


def ready(ti, logical_date):
    if datetime.now(UTC) < logical_date + timedelta(seconds=4):
        return False
    note(ti, "done")
    return True


class Deferring(BaseOperator):
    def execute(self, context):
        note(context["ti"], "start")
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=2)), method_name="resume")

    def resume(self, context, event=None):
        note(context["ti"], "resume")
        return "resumed"


with DAG("soak_fanout", schedule=None, start_date=START, default_args=DEFAULTS, max_active_tasks=16):
    first = PythonOperator(task_id="first", python_callable=work)
    last = PythonOperator(task_id="last", python_callable=work)
    for i in range(10):
        first >> PythonOperator(task_id=f"branch_{i}", python_callable=work) >> last

with DAG("soak_chain", schedule=None, start_date=START, default_args=DEFAULTS):
    chain(*[PythonOperator(task_id=f"step_{i}", python_callable=work) for i in range(6)])

with DAG("soak_retry", schedule=None, start_date=START, default_args=DEFAULTS):
    before = PythonOperator(task_id="before", python_callable=work)
    after = PythonOperator(task_id="after", python_callable=work)
    for i in range(3):
        before >> PythonOperator(task_id=f"flaky_{i}", python_callable=flaky) >> after

with DAG("soak_mapped", schedule=None, start_date=START, default_args=DEFAULTS):

    @task
    def make(ti=None):
        note(ti, "run")
        return list(range(6))

    @task
    def each(x, ti=None):
        work(ti)
        return x * 2

    @task
    def total(values, ti=None):
        note(ti, "run")
        return sum(values)

    total(each.expand(x=make()))

with DAG("soak_wait", schedule=None, start_date=START, default_args=DEFAULTS):
    sensor = PythonSensor(task_id="sensor", python_callable=ready, mode="reschedule", poke_interval=1, timeout=600)
    deferring = Deferring(task_id="deferring")
    PythonOperator(task_id="start", python_callable=work) >> [sensor, deferring]
    [sensor, deferring] >> PythonOperator(task_id="end", python_callable=work)
'''

DAG_IDS = ("soak_fanout", "soak_chain", "soak_retry", "soak_mapped", "soak_wait")
#: The phase whose line a successful try of each kind of task writes last.
FINAL_PHASE = {"sensor": "done", "deferring": "resume"}


@dataclass
class Workload:
    """Keeps up to ``runs_per_dag`` runs of each soak DAG active, triggering one where a run finished."""

    sessions: sessionmaker[Session]
    rng: random.Random
    runs_per_dag: int = 2
    triggered: list[tuple[str, str]] = field(default_factory=list)
    trigger_errors: int = 0

    def write(self, dags_folder: Path) -> None:
        (dags_folder / "soak.py").write_text(DAG_FILE.lstrip())

    def parsed(self) -> bool:
        with self.sessions() as session:
            found = session.scalars(select(DagModel.dag_id).where(DagModel.dag_id.in_(DAG_IDS))).all()
        return len(set(found)) == len(DAG_IDS)

    def top_up(self) -> None:
        """Trigger runs where fewer than ``runs_per_dag`` are active; a database error (the soak's own
        faults) is counted and tried again at the next call."""
        try:
            with self.sessions() as session:
                active = dict(
                    session.execute(
                        select(DagRunModel.dag_id, func.count())
                        .where(DagRunModel.state.not_in([s.value for s in FINISHED_DAG_RUN_STATES]))
                        .group_by(DagRunModel.dag_id)
                    ).all()
                )
            dag_ids = [d for d in DAG_IDS for _ in range(self.runs_per_dag - active.get(d, 0))]
            self.rng.shuffle(dag_ids)
            for dag_id in dag_ids:
                with transaction(self.sessions) as session:
                    run_id = trigger_run(
                        session=session, dag_id=dag_id, now=utcnow(), triggered_by="soak"
                    ).run_id
                self.triggered.append((dag_id, run_id))
        except SQLAlchemyError:
            self.trigger_errors += 1

    def active_runs(self) -> int:
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(DagRunModel)
                    .where(DagRunModel.state.not_in([s.value for s in FINISHED_DAG_RUN_STATES]))
                )
                or 0
            )
