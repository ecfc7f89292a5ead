"""An Airflow DAG file using SQLExecuteQueryOperator and a ``.sql`` template with ``{{ ds }}``, run by the real
`tradewind tasks run` against PostgreSQL: the connection comes from TRADEWIND_CONN_WAREHOUSE, the rows land
in XCom, and the connection's password never reaches the try's log."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.conftest import create_postgres_database, drop_postgres_database
from tests.integration.runner.harness import SQLITE_ONLY, TRADEWIND
from tests.migrated_databases import migrate_database
from tradewind.compat.airflow.activation import AirflowNames, enable_airflow_names, installed_finder
from tradewind.config.settings import Settings
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState, DagRunType, TaskInstanceState
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.loading import load_dags_from_file
from tradewind.sdk.schedules import DataInterval
from tradewind.store import dag_runs, dags, task_instances, xcom
from tradewind.store.engine import make_engine, make_session_factory, transaction

pytestmark = pytest.mark.postgres
DAG_ID = "sql_pipeline"
RUN_ID = "scheduled__2024-03-05T00:00:00+00:00"
LOGICAL_DATE = datetime(2024, 3, 5, tzinfo=UTC)
PASSWORD = "warehouse-pw-5e1f0a"

DAG_FILE = """
from datetime import datetime

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

with DAG(dag_id="sql_pipeline", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    SQLExecuteQueryOperator(
        task_id="daily_totals",
        conn_id="warehouse",
        sql="sql/daily_totals.sql",
        parameters={"least": 1},
        show_return_value_in_logs=True,
    )
"""
SQL_FILE = """
-- totals of the run's day
select region, sum(amount)::int as total, count(*) as orders
from orders
where day = '{{ ds }}' and amount >= %(least)s
group by region
order by region
"""


@pytest.fixture
def warehouse() -> Iterator[str]:
    url = create_postgres_database("tw_warehouse").replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url) as conn:
            conn.execute("create table orders (day date, region text, amount numeric)")
            conn.execute(
                "insert into orders values ('2024-03-05', 'north', 10), ('2024-03-05', 'north', 5), "
                "('2024-03-05', 'south', 7), ('2024-03-05', 'south', 0.5), ('2024-03-06', 'north', 100)"
            )
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def airflow_dag(settings: Settings, tw_home: Path) -> Iterator[Path]:
    """The DAG file and its .sql template in the DAG folder, parsed and stored with one run."""
    folder = tw_home / "dags"
    (folder / "sql").mkdir()
    (folder / "sql" / "daily_totals.sql").write_text(SQL_FILE)
    path = folder / "sql_pipeline.py"
    path.write_text(textwrap.dedent(DAG_FILE))
    served = enable_airflow_names(settings) is AirflowNames.SERVED
    try:
        loaded = load_dags_from_file(path, dags_folder=folder)
    finally:
        finder = installed_finder()
        if served and finder is not None:
            sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "airflow" or n.startswith("airflow.")]:
            del sys.modules[name]
    assert not loaded.errors, loaded.errors
    migrate_database(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    try:
        with transaction(factory) as session:
            sdag = serialize_dag(loaded.dags[0], fileloc=str(path), relative_fileloc=path.name)
            dags.upsert_dag(session=session, sdag=sdag, paused_default=False, now=now)
            run = dag_runs.create_dag_run(
                session=session, dag_id=DAG_ID, run_id=RUN_ID, run_type=DagRunType.SCHEDULED,
                logical_date=LOGICAL_DATE, data_interval=DataInterval(LOGICAL_DATE, datetime(2024, 3, 6, tzinfo=UTC)),
                state=DagRunState.RUNNING, now=now,
            )  # fmt: skip
            session.flush()
            task_instances.create_task_instances(session=session, run=run, sdag=sdag)
            key = TaskInstanceKey(DAG_ID, RUN_ID, "daily_totals", -1)
            for expected, target in (
                (None, TaskInstanceState.SCHEDULED),
                (TaskInstanceState.SCHEDULED, TaskInstanceState.QUEUED),
            ):
                values = {"try_number": 1, "queued_at": now} if target is TaskInstanceState.QUEUED else None
                assert task_instances.transition(
                    session=session, key=key, expected=expected, target=target, values=values
                )
        yield path
    finally:
        engine.dispose()


@SQLITE_ONLY
def test_airflow_sql_dag_runs_against_postgres(
    settings: Settings, airflow_dag: Path, warehouse: str, tw_home: Path
) -> None:
    host_part = warehouse.split("://", 1)[1].split("@", 1)[1]
    env = {
        **_clean_env(),
        "TRADEWIND_HOME": str(tw_home),
        "TRADEWIND__DATABASE__URL": settings.database_url,
        "TRADEWIND_CONN_WAREHOUSE": f"postgresql://postgres:{PASSWORD}@{host_part}",
    }
    done = subprocess.run(
        [TRADEWIND, "tasks", "run", DAG_ID, "daily_totals", RUN_ID, "--try-number", "1", "--subdir", airflow_dag.name],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    log_path = (
        settings.base_log_folder
        / f"dag_id={DAG_ID}"
        / f"run_id={RUN_ID}"
        / "task_id=daily_totals"
        / "attempt=1.log"
    )
    log = log_path.read_text() if log_path.exists() else ""
    assert done.returncode == 0, done.stdout + done.stderr + log
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            key = TaskInstanceKey(DAG_ID, RUN_ID, "daily_totals", -1)
            assert (
                task_instances.get_task_instance(session=session, key=key).state == TaskInstanceState.SUCCESS
            )
            rows = xcom.get_xcom(
                session=session, dag_id=DAG_ID, run_id=RUN_ID, task_id="daily_totals", key="return_value",
                map_index=-1,
            )  # fmt: skip
    finally:
        engine.dispose()
    assert rows == [["north", 15, 2], ["south", 7, 1]]
    assert "where day = '2024-03-05' and amount >= %(least)s" in log  # the template file, rendered with ds
    assert "Operator output is:" in log
    assert PASSWORD not in log and PASSWORD not in done.stdout + done.stderr


def _clean_env() -> dict[str, str]:
    import os

    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRADEWIND__", "TRADEWIND_CONN_", "AIRFLOW_CONN_"))
    }
