"""The scheduler's slot gauges, set every heartbeat: executor open/queued/running and pool slots."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tradewind.core.states import TaskInstanceState
from tradewind.executors.base import Executor
from tradewind.observability.metrics import Metrics
from tradewind.store.tables import PoolModel, TaskInstanceModel


def record_slot_gauges(*, session: Session, metrics: Metrics, executor: Executor, job_id: int | None) -> None:
    """Executor slots as this scheduler's executor sees them (queued: tries this scheduler queued that no
    runner has taken yet, as the database says); pool slots across all schedulers. Two queries."""
    ti = TaskInstanceModel
    mine = case((ti.queued_by_job_id == job_id, 1), else_=0) if job_id is not None else 0
    occupancy: dict[tuple[str, str], int] = {}
    queued_here = 0
    for pool, state, slots, queued_by_me in session.execute(
        select(ti.pool, ti.state, func.sum(ti.pool_slots), func.sum(mine))
        .where(ti.state.in_([TaskInstanceState.QUEUED, TaskInstanceState.RUNNING]))
        .group_by(ti.pool, ti.state)
    ):
        occupancy[(pool, str(state))] = int(slots or 0)
        if state == TaskInstanceState.QUEUED:
            queued_here += int(queued_by_me or 0)
    name = executor.name
    running = len(executor.running_keys())
    metrics.gauge("executor.open_slots", executor.open_slots(), executor=name)
    metrics.gauge("executor.queued_tasks", queued_here, executor=name)
    metrics.gauge("executor.running_tasks", max(0, running - queued_here), executor=name)
    for pool_name, total in session.execute(select(PoolModel.name, PoolModel.slots)):
        queued = occupancy.get((pool_name, TaskInstanceState.QUEUED.value), 0)
        running_slots = occupancy.get((pool_name, TaskInstanceState.RUNNING.value), 0)
        metrics.gauge("pool.open_slots", total - queued - running_slots, pool_name=pool_name)
        metrics.gauge("pool.queued_slots", queued, pool_name=pool_name)
        metrics.gauge("pool.running_slots", running_slots, pool_name=pool_name)
