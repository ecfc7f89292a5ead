"""Fixtures for the store tests: sessions on a migrated database (SQLite and PostgreSQL) and DAG builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.core.states import DagRunType
from tradewind.sdk.schedules import DataInterval
from tradewind.store import dag_runs, dags, task_instances
from tradewind.store.engine import make_session_factory
from tradewind.store.tables import DagRunModel

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

MakeSdag = Callable[..., SerializedDag]
MakeRun = Callable[..., DagRunModel]


@pytest.fixture
def factory(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session inside one open transaction, rolled back at the end."""
    with factory() as session, session.begin():
        yield session
        session.rollback()


@pytest.fixture
def make_sdag() -> MakeSdag:
    """``make_sdag("d", {"a": ["b"], "b": []}, retries={"b": 2})``: a SerializedDag with those edges."""

    def build(
        dag_id: str = "example",
        edges: dict[str, list[str]] | None = None,
        *,
        retries: dict[str, int] | None = None,
        tags: list[str] | None = None,
        **task_fields: Any,
    ) -> SerializedDag:
        edges = edges if edges is not None else {"extract": ["load"], "load": []}
        upstream: dict[str, list[str]] = {task_id: [] for task_id in edges}
        for task_id, downstream in edges.items():
            for child in downstream:
                upstream[child].append(task_id)
        tasks = [
            SerializedTask(
                task_id=task_id,
                operator="BashOperator",
                upstream=upstream[task_id],
                downstream=downstream,
                retries=(retries or {}).get(task_id, 0),
                **task_fields.get(task_id, {}),
            )
            for task_id, downstream in edges.items()
        ]
        return SerializedDag(
            dag_id=dag_id,
            fileloc=f"/dags/{dag_id}.py",
            relative_fileloc=f"{dag_id}.py",
            tags=tags or [],
            tasks=tasks,
        )

    return build


@pytest.fixture
def make_run(session: Session, make_sdag: MakeSdag) -> MakeRun:
    """Store a DAG and one run of it with its task instances."""

    def build(
        sdag: SerializedDag | None = None, *, logical_date: datetime = NOW, state: str = "queued"
    ) -> DagRunModel:
        sdag = sdag or make_sdag()
        dags.upsert_dag(session=session, sdag=sdag, paused_default=False, now=NOW)
        run = dag_runs.create_dag_run(
            session=session,
            dag_id=sdag.dag_id,
            run_id=dag_runs.make_run_id(DagRunType.MANUAL, logical_date),
            run_type=DagRunType.MANUAL,
            logical_date=logical_date,
            data_interval=DataInterval(logical_date, logical_date),
            state=state,
            now=NOW,
        )
        task_instances.create_task_instances(session=session, run=run, sdag=sdag)
        return run

    return build
