"""Find tries nobody is carrying any more: zombies (runner stopped heartbeating), tries stuck in queued,
and tries left behind by a scheduler that died (adoption); and the reverse, tries the executor still carries
that the database has ended (released)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.states import TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.execution.tokens import WorkloadTokens
from tradewind.executors.base import AdoptionCandidate, Executor
from tradewind.scheduler.heartbeat_watch import Beat, HeartbeatWatch
from tradewind.scheduler.try_failure import fail_try, reset_to_scheduled
from tradewind.scheduler.try_observations import TickObservations
from tradewind.scheduler.try_workload import workload_for
from tradewind.store import scheduling
from tradewind.store.serialized_dag_cache import SerializedDagCache
from tradewind.store.tables import TaskInstanceModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FailedZombie:
    """A try ``fail_zombies`` ended in a transaction not yet committed: ``settle_zombies`` logs it after."""

    key: tuple[int, int]
    message: str


def fail_zombies(
    *,
    session: Session,
    cache: SerializedDagCache,
    now: datetime,
    watch: HeartbeatWatch,
    observations: TickObservations | None = None,
) -> list[FailedZombie]:
    """Fail (or retry) the running tries whose heartbeat ``watch`` has seen unchanged for its threshold;
    the caller hands what this returns to ``settle_zombies`` once its transaction commits (a rolled-back
    one failed nothing, and must leave no log line saying it did, nor a try the watch stopped counting).

    Ages are never ``now - last_heartbeat_at``: that difference jumps with the wall clock (ADR 0015). ``now``
    is only the end date written."""
    beats = [
        Beat((ti_id, try_number), beat)
        for ti_id, try_number, beat in scheduling.running_heartbeats(session=session)
    ]
    stale: dict[tuple[int, int], object] = {cast(tuple[int, int], b.key): b.value for b in watch.stale(beats)}
    if not stale:
        return []
    failed: list[FailedZombie] = []
    reason = f"zombie: no heartbeat from the task's runner for more than {watch.threshold:g} s"
    for ti in scheduling.running_tries(session=session, ids=[ti_id for ti_id, _try in stale]):
        key = (ti.id, ti.try_number)
        if key not in stale or stale[key] != (ti.last_heartbeat_at or ti.start_date):
            continue  # a beat (or a new try) came in since the watch looked
        sdag = cache.find(session, ti.dag_id)
        task = sdag.task_dict.get(ti.task_id) if sdag is not None else None
        if (new_state := fail_try(session=session, ti=ti, task=task, reason=reason, now=now)) is not None:
            failed.append(
                FailedZombie(key, f"{ti.dag_id}.{ti.task_id} ({ti.run_id}) try {ti.try_number}: {reason}")
            )
            if observations is not None:
                observations.zombies.append((ti.dag_id, ti.task_id))
                observations.try_ended(ti, new_state, now)
    return failed


def settle_zombies(failed: list[FailedZombie], watch: HeartbeatWatch) -> None:
    """After the commit of ``fail_zombies``' transaction: log each failed try, and stop watching it."""
    for zombie in failed:
        log.error("%s", zombie.message)
        watch.forget(zombie.key)


def reset_stuck_queued(*, session: Session, executor: Executor, now: datetime, timeout: float) -> int:
    """Queued tries the executor does not know about after ``timeout`` seconds are scheduled again."""
    carried = {k.ti for k in executor.running_keys()}
    count = 0
    for ti in scheduling.queued_before(session=session, queued_before=now - timedelta(seconds=timeout)):
        if TaskInstanceKey.of(ti) in carried:
            continue
        if reset_to_scheduled(
            session=session, ti=ti, reason=f"queued for more than {timeout:g} s without starting"
        ):
            count += 1
    return count


def ended_but_carried(*, session: Session, executor: Executor) -> set[TaskTryKey]:
    """The tries the executor carries that the database has ended (or moved past, to a later try): their
    compute's events, should any still come, would be ignored."""
    carried = executor.running_keys()
    if not carried:
        return set()
    rows = scheduling.get_task_instance_rows(session=session, keys=[key.ti for key in carried])
    return {
        key
        for key in carried
        if (ti := rows.get(key.ti)) is None
        or ti.try_number != key.try_number
        or ti.state not in (TaskInstanceState.QUEUED, TaskInstanceState.RUNNING)
    }


def adopt_orphans(
    *,
    session: Session,
    cache: SerializedDagCache,
    executor: Executor,
    job_id: int,
    now: datetime,
    liveness_threshold: float,
    tokens: WorkloadTokens | None = None,
) -> tuple[int, int]:
    """Offer tries of dead schedulers to the executor; reset queued ones it cannot adopt. With ``tokens``
    the offered workloads carry a fresh claim token (an executor that must send an adopted queued try again
    sends one its runner can use).

    Running tries it cannot adopt are left alone: their runner heartbeats if it is alive, and the zombie
    check settles them if not. Returns (adopted, reset).
    """
    live = scheduling.live_scheduler_job_ids(
        session=session, heartbeat_after=now - timedelta(seconds=liveness_threshold)
    )
    live = [j for j in live if j != job_id]
    orphans = scheduling.orphaned_tries(session=session, executor=executor.name, live_job_ids=[*live, job_id])
    if not orphans:
        return 0, 0
    workloads = [_workload(session, cache, ti) for ti in orphans]
    if tokens is not None:
        workloads = [tokens.attach(w) for w in workloads]
    candidates = [AdoptionCandidate(w, ti.external_executor_id) for w, ti in zip(workloads, orphans, strict=True)]
    not_adopted = {w.try_key for w in executor.adopt(candidates)}
    adopted_ids, reset = [], 0
    for ti in orphans:
        try_key = _workload(session, cache, ti).try_key
        if try_key not in not_adopted:
            adopted_ids.append(ti.id)
        elif ti.state == TaskInstanceState.QUEUED and reset_to_scheduled(
            session=session, ti=ti, reason="its scheduler died before the try started"
        ):
            reset += 1
    scheduling.claim_for_job(session=session, ti_ids=adopted_ids, job_id=job_id)
    return len(adopted_ids), reset


def _workload(session: Session, cache: SerializedDagCache, ti: TaskInstanceModel) -> ExecuteTask:
    return workload_for(ti, cache.find(session, ti.dag_id), try_number=ti.try_number)
