"""Pick scheduled task instances within parallelism, max_active_tasks and pools, and queue them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.workload import ExecuteTask
from tradewind.scheduler.try_workload import workload_for
from tradewind.store import pools, scheduling
from tradewind.store.scheduling import ALL_RUNS, DispatchCandidate, RunScope
from tradewind.store.serialized_dag_cache import SerializedDagCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    open_slots: int
    executor_name: str
    job_id: int | None


@dataclass(frozen=True, slots=True)
class Dispatched:
    """What a dispatch queued, and whether scheduled tries may be left waiting for an executor slot (the open
    slots ran out before the candidates did, or there was no open slot to look for them with)."""

    workloads: list[ExecuteTask]
    slots_short: bool


def select_and_queue(
    *, session: Session, cache: SerializedDagCache, limits: Limits, now: datetime, scope: RunScope = ALL_RUNS
) -> Dispatched:
    """Move the best scheduled task instances to queued (try_number + 1) and return their workloads.

    The caller commits, then hands the workloads to the executor: a try is never in the executor before the
    database says it is queued.
    """
    if limits.open_slots <= 0:
        return Dispatched([], slots_short=True)
    candidates = scheduling.dispatch_candidates(
        session=session, limit=max(limits.open_slots * 4, 64), scope=scope
    )
    if not candidates:
        return Dispatched([], slots_short=False)
    per_dag, per_pool = scheduling.active_task_counts(session=session)
    pool_slots = {p.name: p.slots for p in pools.list_pools(session=session)}
    chosen: list[tuple[DispatchCandidate, SerializedDag]] = []
    dags: dict[str, SerializedDag | None] = {}
    slots_short = False
    for ti in candidates:
        if len(chosen) >= limits.open_slots:
            slots_short = True
            break
        if ti.dag_id not in dags:
            dags[ti.dag_id] = cache.find(session, ti.dag_id)
        sdag = dags[ti.dag_id]
        if sdag is None or ti.task_id not in sdag.task_dict:
            continue
        if per_dag.get(ti.dag_id, 0) >= sdag.max_active_tasks:
            continue
        total = pool_slots.get(ti.pool)
        if total is None:
            log.warning("task %s.%s uses pool %r, which does not exist", ti.dag_id, ti.task_id, ti.pool)
            continue
        if per_pool.get(ti.pool, 0) + ti.pool_slots > total:
            continue
        per_dag[ti.dag_id] = per_dag.get(ti.dag_id, 0) + 1
        per_pool[ti.pool] = per_pool.get(ti.pool, 0) + ti.pool_slots
        chosen.append((ti, sdag))
    queued = _queue(session, [ti for ti, _ in chosen], limits, now)
    return Dispatched(
        [workload_for(ti, sdag, try_number=_next_try_number(ti)) for ti, sdag in chosen if ti.id in queued],
        slots_short=slots_short,
    )


def _queue(session: Session, chosen: list[DispatchCandidate], limits: Limits, now: datetime) -> set[int]:
    """Queue ``chosen`` in at most two statements (tries going on keep their number); the ids queued. The
    candidates are locked (PostgreSQL) or the write lock is held (SQLite): all of them are, in practice."""
    values = {
        "next_poke_at": None,
        "queued_at": now,
        "executor": limits.executor_name,
        "queued_by_job_id": limits.job_id,
        "state_reason": None,
        "external_executor_id": None,
        "hostname": None,
        "pid": None,
        "start_date": None,
        "end_date": None,
        "duration": None,
        "last_heartbeat_at": None,
    }
    queued: set[int] = set()
    for new_try in (True, False):
        tries = [(ti.id, ti.try_number) for ti in chosen if (_next_try_number(ti) > ti.try_number) == new_try]
        queued |= scheduling.queue_candidates(session=session, tries=tries, new_try=new_try, values=values)
    return queued


def _next_try_number(ti: DispatchCandidate) -> int:
    """A new try, except for a sensor going on after a reschedule (``next_poke_at`` set) or a deferred try
    resuming (``next_method`` set): same try."""
    going_on = ti.next_poke_at is not None or ti.next_method is not None
    return ti.try_number if going_on and ti.try_number > 0 else ti.try_number + 1
