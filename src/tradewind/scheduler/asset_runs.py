"""Runs of DAGs scheduled on assets: created when the queued asset events satisfy the DAG's condition."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.core.states import DagRunType
from tradewind.sdk.assets import evaluate_condition
from tradewind.sdk.errors import ConflictError
from tradewind.sdk.schedules import DataInterval
from tradewind.sdk.timetables.assets import asset_condition_of
from tradewind.store import asset_queue, assets
from tradewind.store.new_runs import create_run
from tradewind.store.serialized_dag_cache import SerializedDagCache

log = logging.getLogger(__name__)


def create_asset_triggered_runs(*, session: Session, cache: SerializedDagCache, now: datetime) -> int:
    """One run per DAG whose asset condition holds over its queued events; the run consumes every event
    queued for the DAG. Returns how many runs were created."""
    created = 0
    for dag_id in asset_queue.dags_with_queued_events(session=session):
        sdag = cache.find(session, dag_id)
        if sdag is None:
            continue
        condition = asset_condition_of(sdag.timetable)
        if condition is None:
            # The DAG was re-parsed with a schedule that no longer names assets.
            asset_queue.clear_queue(session=session, dag_id=dag_id)
            continue
        events = asset_queue.queued_events(session=session, dag_id=dag_id)
        if not events or not _holds(session, condition, {event.asset_id for event in events}):
            continue
        first, last = events[0].timestamp, events[-1].timestamp
        try:
            with session.begin_nested():
                run = create_run(
                    session=session,
                    sdag=sdag,
                    run_type=DagRunType.ASSET_TRIGGERED,
                    logical_date=now,
                    data_interval=DataInterval(first, last),
                    now=now,
                    triggered_by="asset",
                )
                session.flush()
                asset_queue.consume(
                    session=session, dag_id=dag_id, dag_run_id=run.id, event_ids=[e.id for e in events]
                )
        except ConflictError:
            log.info("asset-triggered run of %s at %s exists already", dag_id, now.isoformat())
            continue
        log.info("created %s of DAG %s, consuming %d asset events", run.run_id, dag_id, len(events))
        created += 1
    return created


def _holds(session: Session, condition: Mapping[str, Any], updated: set[int]) -> bool:
    """Whether the condition holds when the assets ``updated`` have new events."""

    def is_updated(leaf: Mapping[str, Any]) -> bool:
        return bool(assets.resolve_leaf(session=session, leaf=leaf) & updated)

    return evaluate_condition(condition, is_updated)
