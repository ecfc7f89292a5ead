"""Airflow's import paths of the SQL providers (common.sql, postgres, sqlite) are Tradewind's classes."""

from __future__ import annotations

import importlib

import pytest

from tradewind.config.settings import Settings
from tradewind.providers.common.sql.hooks import handlers
from tradewind.providers.common.sql.hooks.sql import DbApiHook
from tradewind.providers.common.sql.operators.sql import BaseSQLOperator, SQLExecuteQueryOperator
from tradewind.providers.common.sql.sensors.sql import SqlSensor
from tradewind.providers.postgres.hooks.postgres import PostgresHook
from tradewind.providers.postgres.operators.postgres import PostgresOperator
from tradewind.providers.sqlite.hooks.sqlite import SqliteHook
from tradewind.providers.sqlite.operators.sqlite import SqliteOperator
from tradewind.sdk.hook_registry import BUILTIN_HOOKS, hook_class_for


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        ("airflow.providers.common.sql.hooks.sql", "DbApiHook", DbApiHook),
        ("airflow.providers.common.sql.hooks.sql", "fetch_all_handler", handlers.fetch_all_handler),
        ("airflow.providers.common.sql.hooks.handlers", "fetch_one_handler", handlers.fetch_one_handler),
        ("airflow.providers.common.sql.operators.sql", "SQLExecuteQueryOperator", SQLExecuteQueryOperator),
        ("airflow.providers.common.sql.operators.sql", "BaseSQLOperator", BaseSQLOperator),
        ("airflow.providers.common.sql.sensors.sql", "SqlSensor", SqlSensor),
        ("airflow.providers.postgres.hooks.postgres", "PostgresHook", PostgresHook),
        ("airflow.providers.postgres.operators.postgres", "PostgresOperator", PostgresOperator),
        ("airflow.providers.sqlite.hooks.sqlite", "SqliteHook", SqliteHook),
        ("airflow.providers.sqlite.operators.sqlite", "SqliteOperator", SqliteOperator),
        ("airflow.hooks.dbapi", "DbApiHook", DbApiHook),
        ("airflow.sensors.sql", "SqlSensor", SqlSensor),
    ],
)
def test_names(airflow_names: Settings, module: str, name: str, target: object) -> None:
    assert getattr(importlib.import_module(module), name) is target


@pytest.mark.parametrize(("conn_type", "hook"), [("postgres", PostgresHook), ("sqlite", SqliteHook)])
def test_builtin_hooks_by_conn_type(conn_type: str, hook: type) -> None:
    module, _, attribute = BUILTIN_HOOKS[conn_type].partition(":")
    assert getattr(importlib.import_module(module), attribute) is hook
    assert hook_class_for(conn_type, conn_id="x") is hook
