"""A metadata database holding the runner_basics DAG, one run of it, and helpers to queue and run its tries
through the real `tradewind tasks run` command (shared by the runner and `tasks` CLI tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.migrated_databases import migrate_database
from tests.waiting import wait_for
from tests.warm_cli import TRADEWIND as TRADEWIND  # re-exported: the tests importing it from here
from tests.warm_cli import WarmProcess, run_tradewind, start_tradewind
from tradewind.config.settings import Settings
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState, DagRunType, TaskInstanceState
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.loading import load_dags_from_file
from tradewind.sdk.schedules import DataInterval
from tradewind.store import dag_runs, dags, task_instances, xcom
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.tables import TaskInstanceModel

DAGS = Path(__file__).with_name("dags")
DAG_ID = "runner_basics"
LOGICAL_DATE = datetime(2024, 1, 1, tzinfo=UTC)
RUN_ID = "scheduled__2024-01-01T00:00:00+00:00"
#: For behaviour that does not depend on the database: run on SQLite only, to keep the suite fast.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class RunnerEnv:
    settings: Settings
    factory: sessionmaker[Session]
    markers: Path
    env: dict[str, str]
    #: Which stored DAG the helpers work on: runner_basics, or one added by ``with_dag_file``.
    dag_id: str = DAG_ID
    dag_file: str = "runner_basics.py"

    def key(self, task_id: str, map_index: int = -1) -> TaskInstanceKey:
        return TaskInstanceKey(self.dag_id, RUN_ID, task_id, map_index)

    # -- setting up tries ---------------------------------------------------------------------------
    def queue(self, task_id: str, *, map_index: int = -1, try_number: int = 1) -> TaskInstanceKey:
        """Put the task instance in queued at ``try_number``, as the scheduler does before dispatch."""
        key = self.key(task_id, map_index)
        with transaction(self.factory) as session:
            if map_index >= 0 and not self._exists(session, key):
                session.add(
                    TaskInstanceModel(dag_id=self.dag_id, run_id=RUN_ID, task_id=task_id, map_index=map_index)
                )
                session.flush()
            ti = task_instances.get_task_instance(session=session, key=key)
            current = TaskInstanceState(ti.state) if ti.state else None
            if current not in (
                None,
                TaskInstanceState.SCHEDULED,
                TaskInstanceState.UP_FOR_RETRY,
            ):  # finished: clear it first
                assert task_instances.transition(
                    session=session, key=key, expected=current, target=None, by_user=True
                )
                current = None
            if current is not TaskInstanceState.SCHEDULED:
                assert task_instances.transition(
                    session=session, key=key, expected=current, target=TaskInstanceState.SCHEDULED
                )
            assert task_instances.transition(
                session=session,
                key=key,
                expected=TaskInstanceState.SCHEDULED,
                target=TaskInstanceState.QUEUED,
                values={"try_number": try_number, "queued_at": datetime.now(UTC)},
            )
        return key

    @staticmethod
    def _exists(session: Session, key: TaskInstanceKey) -> bool:
        try:
            task_instances.get_task_instance(session=session, key=key)
        except Exception:
            return False
        return True

    # -- running ------------------------------------------------------------------------------------
    def argv(self, task_id: str, *, map_index: int = -1, try_number: int | None = 1) -> list[str]:
        """The `tradewind tasks run` arguments for one try of ``task_id``."""
        cmd = ["tasks", "run", self.dag_id, task_id, RUN_ID]
        if map_index >= 0:
            cmd += ["--map-index", str(map_index)]
        if try_number is not None:
            cmd += ["--try-number", str(try_number)]
        return [*cmd, "--subdir", self.dag_file]

    def run(self, task_id: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """The command, run to its end with its output captured (forked from a warm CLI: ``tests.warm_cli``)."""
        return run_tradewind(self.argv(task_id, **kwargs), env=self.env, timeout=120)

    def start(self, task_id: str, **kwargs: Any) -> subprocess.Popen[bytes] | WarmProcess:
        """The command, started (forked from a warm CLI), its output appended to ``<task_id>.out`` beside the
        markers folder."""
        log = self.markers.parent / f"{task_id}.out"
        return start_tradewind(self.argv(task_id, **kwargs), env=self.env, log=log)

    # -- reading results ----------------------------------------------------------------------------
    def ti(self, task_id: str, map_index: int = -1) -> TaskInstanceModel:
        with transaction(self.factory) as session:
            ti = task_instances.get_task_instance(session=session, key=self.key(task_id, map_index))
            session.expunge(ti)
            return ti

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        with transaction(self.factory) as session:
            return xcom.get_xcom(
                session=session,
                dag_id=self.dag_id,
                run_id=RUN_ID,
                task_id=task_id,
                key=key,
                map_index=map_index,
            )

    def log_path(self, task_id: str, try_number: int = 1, map_index: int = -1) -> Path:
        folder = (
            self.settings.base_log_folder
            / f"dag_id={self.dag_id}"
            / f"run_id={RUN_ID}"
            / f"task_id={task_id}"
        )
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        return folder / f"attempt={try_number}.log"

    def log(self, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        return self.log_path(task_id, try_number, map_index).read_text()

    def marker_lines(self, name: str) -> list[str]:
        path = self.markers / name
        return path.read_text().splitlines() if path.exists() else []


@contextmanager
def runner_database(settings: Settings, tw_home: Path, tmp_path: Path) -> Iterator[RunnerEnv]:
    """Migrate the database of ``settings``, store runner_basics (copied into the DAG folder) and create
    its run with every task instance in state none."""
    dags_folder = tw_home / "dags"
    shutil.copy(DAGS / "runner_basics.py", dags_folder / "runner_basics.py")
    markers = tmp_path / "markers"
    markers.mkdir()
    migrate_database(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    store_dag_and_run(factory, dags_folder, "runner_basics.py")
    env = {
        **os.environ,
        "TW_TEST_MARKERS": str(markers),
        "TRADEWIND__SCHEDULER__HEARTBEAT_INTERVAL": "0.2",
        "TRADEWIND_VAR_DB_PASSWORD": "correct-horse-battery",
    }
    try:
        yield RunnerEnv(settings=settings, factory=factory, markers=markers, env=env)
    finally:
        engine.dispose()


def with_dag_file(env: RunnerEnv, source: Path) -> RunnerEnv:
    """Copy another DAG file (one DAG) into the DAG folder, store it with its run RUN_ID, and return ``env``
    working on that DAG. A file importing Airflow's names is loaded with them served, as the runner does."""
    from tradewind.compat.airflow.activation import AirflowNames, enable_airflow_names, installed_finder

    dags_folder = env.settings.dags_folder
    shutil.copy(source, dags_folder / source.name)
    served = enable_airflow_names(env.settings) is AirflowNames.SERVED
    try:
        dag_id = store_dag_and_run(env.factory, dags_folder, source.name)
    finally:
        finder = installed_finder()
        if served and finder is not None:
            sys.meta_path.remove(finder)
            for name in [n for n in sys.modules if n == "airflow" or n.startswith("airflow.")]:
                del sys.modules[name]
    return replace(env, dag_id=dag_id, dag_file=source.name)


def store_dag_and_run(factory: sessionmaker[Session], dags_folder: Path, file_name: str) -> str:
    """Store the one DAG of ``file_name`` and create its run RUN_ID, every task instance in state none."""
    loaded = load_dags_from_file(dags_folder / file_name, dags_folder=dags_folder)
    assert not loaded.errors, loaded.errors
    dag_id = loaded.dags[0].dag_id
    now = datetime.now(UTC)
    with transaction(factory) as session:
        sdag = serialize_dag(loaded.dags[0], fileloc=str(dags_folder / file_name), relative_fileloc=file_name)
        dags.upsert_dag(session=session, sdag=sdag, paused_default=False, now=now)
        run = dag_runs.create_dag_run(
            session=session,
            dag_id=dag_id,
            run_id=RUN_ID,
            run_type=DagRunType.SCHEDULED,
            logical_date=LOGICAL_DATE,
            data_interval=DataInterval(LOGICAL_DATE, datetime(2024, 1, 2, tzinfo=UTC)),
            state=DagRunState.RUNNING,
            now=now,
        )
        session.flush()
        task_instances.create_task_instances(session=session, run=run, sdag=sdag)
    return dag_id


def run_through_executor(env: RunnerEnv, tokens: Any, task_ids: list[str]) -> tuple[dict[str, TryProcessEvent], list[str]]:
    """Queue ``task_ids``, run them through a forked LocalExecutor with claim tokens from ``tokens`` (an
    execution.tokens.WorkloadTokens), wait for their ends; how each try's process ended, per task, and every
    token handed out."""
    from tradewind.core.workload import ExecuteTask
    from tradewind.executors.local import LocalExecutor
    from tradewind.runner.fork_preload import try_launcher

    for task_id in task_ids:
        env.queue(task_id)
    executor = LocalExecutor(2, settings=env.settings, launcher=try_launcher(), env=env.env)
    executor.start()
    events: list[TaskEvent] = []
    issued: list[str] = []
    try:
        for task_id in task_ids:
            workload = ExecuteTask(
                dag_id=DAG_ID, task_id=task_id, run_id=RUN_ID, dag_rel_path="runner_basics.py"
            )
            attached = tokens.attach(workload)
            issued.append(attached.token)
            executor.queue_workload(attached)

        def finished() -> bool:
            events.extend(e for e in executor.get_events() if e.ended)
            return len(events) == len(task_ids)

        wait_for(finished, timeout=60, what="the forked tries to end")
    finally:
        executor.stop(wait=False)
    return {e.key.ti.task_id: e.kind for e in events}, issued
