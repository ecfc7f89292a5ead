"""Fixtures for the SDK tests: an installed in-memory runtime and a way to run one task as the runner does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.context import build_context
from tradewind.sdk.mapped import MappedOperator, resolve_expand_args
from tradewind.sdk.runtime import XCOM_ABSENT, InMemoryRuntime, use_runtime
from tradewind.sdk.task_result import result_xcoms

LOGICAL_DATE = datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryRuntime]:
    for key in [k for k in os.environ if k.startswith("TRADEWIND_VAR_")]:
        monkeypatch.delenv(key)
    rt = InMemoryRuntime()
    with use_runtime(rt):
        yield rt


def run_task(
    task: AbstractOperator,
    runtime: InMemoryRuntime,
    *,
    run_id: str = "manual__1",
    map_index: int = -1,
    conf: dict[str, Any] | None = None,
) -> Any:
    """What the runner does for one try: unmap, build the context, render, execute, push the result."""
    if isinstance(task, MappedOperator):

        def pull(task_id: str, key: str) -> Any:
            return runtime.xcom_pull(
                dag_id=task.dag.dag_id, run_id=run_id, task_id=task_id, key=key, map_index=None
            )

        concrete = task.unmap(resolve_expand_args(task, map_index, pull))
    else:
        assert isinstance(task, BaseOperator)
        concrete = task.prepare_for_execution()
    context = build_context(
        task=concrete,
        run_id=run_id,
        logical_date=LOGICAL_DATE,
        data_interval_start=LOGICAL_DATE,
        data_interval_end=LOGICAL_DATE,
        conf=conf,
        map_index=map_index,
    )
    concrete.render_template_fields(context)
    result = concrete.execute(context)
    for key, value in result_xcoms(concrete, result):
        runtime.xcom_push(
            dag_id=task.dag.dag_id,
            run_id=run_id,
            task_id=task.task_id,
            map_index=map_index,
            key=key,
            value=value,
        )
    return result


def xcom(
    runtime: InMemoryRuntime,
    dag_id: str,
    task_id: str,
    key: str = "return_value",
    map_index: int | None = None,
    run_id: str = "manual__1",
) -> Any:
    value = runtime.xcom_pull(dag_id=dag_id, run_id=run_id, task_id=task_id, key=key, map_index=map_index)
    return None if value is XCOM_ABSENT else value
