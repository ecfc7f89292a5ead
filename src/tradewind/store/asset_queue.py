"""The asset events waiting for each consuming DAG, and the events each run consumed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradewind.store.assets import event_dict
from tradewind.store.tables import (
    AssetDagRunQueueModel,
    AssetEventModel,
    AssetModel,
    DagModel,
    DagRunAssetEventModel,
    DagRunModel,
)


def dags_with_queued_events(*, session: Session) -> list[str]:
    """Active, unpaused DAGs that have asset events waiting. On PostgreSQL their DAG rows are locked
    (skipping rows another scheduler holds), so two schedulers never both create a run from one queue."""
    waiting = select(AssetDagRunQueueModel.target_dag_id)
    stmt = (
        select(DagModel.dag_id)
        .where(DagModel.dag_id.in_(waiting), DagModel.is_active.is_(True), DagModel.is_paused.is_(False))
        .order_by(DagModel.dag_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # As the scheduler's other DAG-row locks: FOR NO KEY UPDATE does not block inserts referencing dag.
        stmt = stmt.with_for_update(skip_locked=True, key_share=True, of=DagModel)
    return list(session.scalars(stmt))


def queued_events(*, session: Session, dag_id: str) -> list[AssetEventModel]:
    """The events waiting for ``dag_id``, oldest first."""
    stmt = (
        select(AssetEventModel)
        .join(AssetDagRunQueueModel, AssetDagRunQueueModel.event_id == AssetEventModel.id)
        .where(AssetDagRunQueueModel.target_dag_id == dag_id)
        .order_by(AssetEventModel.timestamp, AssetEventModel.id)
    )
    return list(session.scalars(stmt))


def consume(*, session: Session, dag_id: str, dag_run_id: int, event_ids: Sequence[int]) -> None:
    """Link the events to the run and take them off the DAG's queue."""
    session.add_all(DagRunAssetEventModel(dag_run_id=dag_run_id, event_id=i) for i in event_ids)
    session.execute(
        delete(AssetDagRunQueueModel).where(
            AssetDagRunQueueModel.target_dag_id == dag_id, AssetDagRunQueueModel.event_id.in_(list(event_ids))
        )
    )


def clear_queue(*, session: Session, dag_id: str) -> int:
    """Drop every event waiting for ``dag_id`` (it is no longer scheduled on assets)."""
    result = session.execute(
        delete(AssetDagRunQueueModel).where(AssetDagRunQueueModel.target_dag_id == dag_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def consumed_events(*, session: Session, dag_run_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """dag run id -> the events it consumed (as ``event_dict``), oldest first."""
    ids = list(dag_run_ids)
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    stmt = (
        select(DagRunAssetEventModel.dag_run_id, AssetEventModel, AssetModel)
        .join(AssetEventModel, AssetEventModel.id == DagRunAssetEventModel.event_id)
        .join(AssetModel, AssetModel.id == AssetEventModel.asset_id)
        .where(DagRunAssetEventModel.dag_run_id.in_(ids))
        .order_by(AssetEventModel.timestamp, AssetEventModel.id)
    )
    for run_id, event, asset in session.execute(stmt):
        found[run_id].append({**event_dict(event, asset), "asset_id": asset.id})
    return found


def runs_created_by(*, session: Session, event_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """event id -> the (dag_id, run_id) of the runs that consumed it."""
    ids = list(event_ids)
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if not ids:
        return found
    stmt = (
        select(DagRunAssetEventModel.event_id, DagRunModel.dag_id, DagRunModel.run_id)
        .join(DagRunModel, DagRunModel.id == DagRunAssetEventModel.dag_run_id)
        .where(DagRunAssetEventModel.event_id.in_(ids))
    )
    for event_id, dag_id, run_id in session.execute(stmt):
        found[event_id].append((dag_id, run_id))
    return found
