"""A task instance's key as bound parameters of a prebuilt Core statement: the WHERE clauses that name it on a
table with ``dag_id``, ``run_id``, ``task_id`` and ``map_index`` columns, and the values for one key. The
statements the hot path builds once (the execution API's claim and finish) share these names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam

from tradewind.core.keys import TaskInstanceKey


def key_clauses(table: Table) -> list[Any]:
    c = table.c
    return [c.dag_id == bindparam("k_dag_id"), c.run_id == bindparam("k_run_id"),
            c.task_id == bindparam("k_task_id"), c.map_index == bindparam("k_map_index")]  # fmt: skip


def key_params(key: TaskInstanceKey) -> dict[str, Any]:
    return {"k_dag_id": key.dag_id, "k_run_id": key.run_id, "k_task_id": key.task_id,
            "k_map_index": key.map_index}  # fmt: skip
