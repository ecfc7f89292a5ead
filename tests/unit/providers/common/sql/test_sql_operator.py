"""SQLExecuteQueryOperator and SqlSensor on a real SQLite file, run as the runner runs a task: templates
(including a ``.sql`` file) rendered, rows pushed to XCom as JSON; and Airflow's older operator names."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.sdk.conftest import run_task, xcom
from tradewind import DAG
from tradewind.providers.common.sql.operators.sql import SQLExecuteQueryOperator, json_safe
from tradewind.providers.common.sql.sensors.sql import SqlSensor
from tradewind.providers.postgres.operators.postgres import PostgresOperator
from tradewind.providers.sqlite.hooks.sqlite import SqliteHook
from tradewind.providers.sqlite.operators.sqlite import SqliteOperator
from tradewind.sdk import hook_registry
from tradewind.sdk.errors import NotFoundError, SensorTimeout, TaskExecutionError, TemplateError
from tradewind.sdk.hooks import BaseHook
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InMemoryRuntime]:
    for name in [
        n for n in os.environ if n.startswith(("TRADEWIND_CONN_", "AIRFLOW_CONN_", "TRADEWIND_VAR_"))
    ]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(
        "TRADEWIND_CONN_LITE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "x.db")})
    )
    SqliteHook("lite").run(
        "create table sales (day text, amount real); "
        "insert into sales values ('2024-03-05', 10.5), ('2024-03-05', 2), ('2024-03-06', 7);",
        split_statements=True,
    )
    rt = InMemoryRuntime()
    with use_runtime(rt):
        yield rt


def test_sql_file_template_with_ds_and_rows_in_xcom(runtime: InMemoryRuntime, tmp_path: Path) -> None:
    (tmp_path / "daily.sql").write_text(
        "select day, sum(amount) from sales where day = '{{ ds }}' and amount > :least group by day"
    )
    with DAG(
        "sql_dag", schedule=None, start_date=datetime(2024, 1, 1), template_searchpath=[str(tmp_path)]
    ) as dag:
        op = SQLExecuteQueryOperator(
            task_id="daily", conn_id="lite", sql="daily.sql", parameters={"least": 1}
        )
    assert op.template_fields == ("sql", "parameters", "conn_id", "database", "hook_params")
    assert op.template_ext == (".sql", ".json")
    assert run_task(op, runtime) == [["2024-03-05", 12.5]]
    assert xcom(runtime, dag.dag_id, "daily") == [["2024-03-05", 12.5]]


def test_statement_lists_scripts_and_no_push(runtime: InMemoryRuntime) -> None:
    with DAG("sql_dag", schedule=None, start_date=datetime(2024, 1, 1)):
        as_list = SQLExecuteQueryOperator(
            task_id="as_list", conn_id="lite", sql=["select count(*) from sales", "select 'x'"]
        )
        script = SQLExecuteQueryOperator(
            task_id="script",
            conn_id="lite",
            sql="select 1; select 2;",
            split_statements=True,
            return_last=False,
        )
        silent = SQLExecuteQueryOperator(
            task_id="silent",
            conn_id="lite",
            sql="delete from sales where day = '{{ ds }}'",
            do_xcom_push=False,
        )
    assert run_task(as_list, runtime) == [[[3]], [["x"]]]
    assert run_task(script, runtime) == [[[1]], [[2]]]
    assert run_task(silent, runtime) is None
    assert SqliteHook("lite").get_records("select day from sales") == [("2024-03-06",)]


def test_parameters_from_a_json_template_file(runtime: InMemoryRuntime, tmp_path: Path) -> None:
    (tmp_path / "params.json").write_text('{"day": "{{ ds }}"}')
    with DAG("sql_dag", schedule=None, start_date=datetime(2024, 1, 1), template_searchpath=[str(tmp_path)]):
        op = SQLExecuteQueryOperator(
            task_id="by_day", conn_id="lite", sql="select count(*) from sales where day = :day",
            parameters="params.json",
        )  # fmt: skip
    assert run_task(op, runtime) == [[2]]


def test_connection_errors_name_the_connection(
    runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hook_registry, "_HOOKS", dict(hook_registry._HOOKS))  # forget the class afterwards

    class NotSqlHook(BaseHook):
        conn_type = "h2_not_sql"

        def __init__(self, conn_id: str) -> None:
            super().__init__()

    monkeypatch.setenv("TRADEWIND_CONN_OTHER", json.dumps({"conn_type": "h2_not_sql", "host": "x"}))
    with DAG("sql_dag", schedule=None, start_date=datetime(2024, 1, 1)):
        not_sql = SQLExecuteQueryOperator(task_id="not_sql", conn_id="other", sql="select 1")
        missing = SQLExecuteQueryOperator(task_id="missing", conn_id="nope", sql="select 1")
        unset = SQLExecuteQueryOperator(task_id="unset", sql="select 1")
        bad_template = SQLExecuteQueryOperator(task_id="bad", conn_id="lite", sql="select {{ nothing }}")
    with pytest.raises(NotFoundError, match="connection 'nope' is not defined"):
        run_task(missing, runtime)
    with pytest.raises(TaskExecutionError, match="task 'unset': conn_id is not set"):
        run_task(unset, runtime)
    with pytest.raises(TemplateError, match="'sql'"):
        run_task(bad_template, runtime)
    with pytest.raises(
        TaskExecutionError, match="connection 'other' has hook NotSqlHook, which is not a DbApiHook"
    ):
        run_task(not_sql, runtime)


def test_json_safe_turns_driver_values_into_json() -> None:
    from datetime import date, time, timedelta
    from uuid import UUID

    row = (Decimal("12.50"), Decimal("3"), date(2024, 1, 2), datetime(2024, 1, 2, 3, 4), time(5, 6),
           timedelta(minutes=2), b"\x01\xff", UUID(int=1), {"k": (1, 2)}, None)  # fmt: skip
    assert json.loads(json.dumps(json_safe([row]))) == [
        [12.5, 3, "2024-01-02", "2024-01-02T03:04:00", "05:06:00", 120.0, "01ff",
         "00000000-0000-0000-0000-000000000001", {"k": [1, 2]}, None],
    ]  # fmt: skip


def test_older_operator_names_are_deprecated_aliases(runtime: InMemoryRuntime) -> None:
    with DAG("sql_dag", schedule=None, start_date=datetime(2024, 1, 1)):
        with pytest.warns(DeprecationWarning, match="SqliteOperator is deprecated"):
            lite = SqliteOperator(task_id="lite", sqlite_conn_id="lite", sql="select count(*) from sales")
        with pytest.warns(DeprecationWarning, match="PostgresOperator is deprecated"):
            pg = PostgresOperator(
                task_id="pg", sql="select 1", database="other", runtime_parameters={"statement_timeout": "3s"}
            )
    assert isinstance(lite, SQLExecuteQueryOperator) and run_task(lite, runtime) == [[3]]
    assert (pg.conn_id, pg.database, pg.hook_params) == ("postgres_default", "other", {
        "options": "-c statement_timeout=3s"
    })  # fmt: skip


def test_sql_sensor(runtime: InMemoryRuntime) -> None:
    with DAG("sensor_dag", schedule=None, start_date=datetime(2024, 1, 1)):
        present = SqlSensor(
            task_id="present", conn_id="lite", sql="select count(*) from sales where day = '{{ ds }}'",
            poke_interval=0.01, timeout=5,
        )  # fmt: skip
        success = SqlSensor(
            task_id="success", conn_id="lite", sql="select sum(amount) from sales where day = :d",
            parameters={"d": "2024-03-05"}, success=lambda total: total > 12, poke_interval=0.01, timeout=5,
        )  # fmt: skip
        never = SqlSensor(
            task_id="never", conn_id="lite", sql="select count(*) from sales where day = '1999-01-01'",
            poke_interval=0.01, timeout=0.05,
        )  # fmt: skip
        empty = SqlSensor(
            task_id="empty", conn_id="lite", sql="select day from sales where 0", fail_on_empty=True,
            poke_interval=0.01, timeout=5,
        )  # fmt: skip
        failure = SqlSensor(
            task_id="failure", conn_id="lite", sql="select day, amount from sales order by amount desc",
            selector=lambda row: row[1], failure=lambda amount: amount > 10, poke_interval=0.01, timeout=5,
        )  # fmt: skip
    assert run_task(present, runtime) is None
    assert run_task(success, runtime) is None
    with pytest.raises(SensorTimeout):
        run_task(never, runtime)
    with pytest.raises(TaskExecutionError, match="no rows returned, and fail_on_empty is set"):
        run_task(empty, runtime)
    with pytest.raises(TaskExecutionError, match=r"failure criteria met: failure\(10.5\) returned True"):
        run_task(failure, runtime)
