"""React to executor TaskEvents: record external ids, and settle tries whose runner died silently."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.states import TaskInstanceState
from tradewind.scheduler.try_failure import fail_try, reset_to_scheduled
from tradewind.scheduler.try_observations import TickObservations
from tradewind.store import scheduling
from tradewind.store.scheduling import EventTi
from tradewind.store.serialized_dag_cache import SerializedDagCache

log = logging.getLogger(__name__)


def handle_events(
    *,
    session: Session,
    cache: SerializedDagCache,
    events: Sequence[TaskEvent],
    now: datetime,
    heartbeat_grace: float = 15.0,
    job_id: int | None = None,
    observations: TickObservations | None = None,
) -> int:
    """Apply events; returns how many changed a task instance.

    An event says what the try's compute did (``TryProcessEvent``); the task instance's state is decided
    here, from the event and the row. ``STARTED`` records the compute's id (pid, pod, Celery task id) and
    changes no state. A compute that ended (``EXITED_CLEANLY`` or ``FAILED``) while its try is still queued
    or running means the runner died before recording an outcome, with one exception: a duplicate runner (a redelivered message, a second pod) that was
    refused the try ends at once while the runner that holds it carries on. So an end event settles a
    running try only when it is about the process that claimed it (same pid or pod name), or when that
    runner has stopped heartbeating; otherwise the zombie check has the last word.

    A queued try has not been claimed by any runner, so the process an end event is about never held it.
    When another scheduler (``job_id`` is this one's) queued it since, or the process exited cleanly (a
    runner refused the try: it had been scheduled again meanwhile), the try is someone else's to start and
    the event is ignored; the try number alone cannot tell, as a try scheduled again keeps its number.

    ``observations`` collects what the metrics count: tries whose compute started, and tries that ended
    (by the runner's own report, seen here when its compute ends, or failed here).
    """
    changed = 0
    rows = scheduling.event_task_instances(session=session, keys=[e.key.ti for e in events])
    current = [
        (e, ti)
        for e in events
        if (ti := rows.get(e.key.ti)) is not None and ti.try_number == e.key.try_number
    ]
    # (Events about an old try, cleared or re-queued since, were dropped.) A start records the compute's id.
    scheduling.record_external_ids(
        session=session,
        ids=[
            (ti.id, ti.try_number, event.external_id)
            for event, ti in current
            if event.kind == TryProcessEvent.STARTED
            and event.external_id
            and ti.state in (TaskInstanceState.QUEUED, TaskInstanceState.RUNNING)
        ],
    )
    for event, ti in current:
        if event.kind == TryProcessEvent.STARTED:
            if observations is not None:
                observations.try_started(ti)
            continue
        if ti.state not in (TaskInstanceState.QUEUED, TaskInstanceState.RUNNING):
            if observations is not None and ti.state is not None:
                observations.try_ended(ti, ti.state, now)  # the runner recorded the outcome itself
            continue
        if ti.state == TaskInstanceState.QUEUED and _dispatched_again(event, ti, job_id):
            log.info("try %s: ended without taking the try, which was queued again since; ignored", event.key)
            continue
        if ti.state == TaskInstanceState.RUNNING and not _about_claimant(event, ti, now, heartbeat_grace):
            log.info(
                "try %s: a runner that did not hold the try ended (%s); ignored", event.key, event.reason
            )
            continue
        row = scheduling.get_task_instance_row(session=session, key=event.key.ti)
        if row is None or row.try_number != ti.try_number:
            continue
        if event.never_started and ti.state == TaskInstanceState.QUEUED:
            if reset_to_scheduled(
                session=session, ti=row, reason=event.reason or "compute failed before start"
            ):
                log.warning("try %s never started (%s); scheduled again", event.key, event.reason)
                changed += 1
            continue
        sdag = cache.find(session, ti.dag_id)
        task = sdag.task_dict.get(ti.task_id) if sdag is not None else None
        reason = event.reason or "the task's process ended without recording a state"
        if event.kind == TryProcessEvent.EXITED_CLEANLY:
            reason = "the task's process exited cleanly without recording a state"
        new_state = fail_try(session=session, ti=row, task=task, reason=reason, now=now)
        if new_state is not None:
            log.error("try %s: %s -> %s", event.key, reason, new_state)
            changed += 1
            if observations is not None:
                observations.try_ended(row, new_state, now)
    return changed


def _dispatched_again(event: TaskEvent, ti: EventTi, job_id: int | None) -> bool:
    if job_id is not None and ti.queued_by_job_id is not None and ti.queued_by_job_id != job_id:
        return True
    # The runner exits 0 without running when it is refused the try; a queued try is nobody's yet.
    return event.kind == TryProcessEvent.EXITED_CLEANLY and not event.never_started


def _about_claimant(event: TaskEvent, ti: EventTi, now: datetime, heartbeat_grace: float) -> bool:
    if event.external_id is not None and _names_claimant(event.external_id, ti):
        return True
    heartbeat = ti.last_heartbeat_at or ti.start_date
    return heartbeat is None or now - heartbeat > timedelta(seconds=heartbeat_grace)


def _names_claimant(external_id: str, ti: EventTi) -> bool:
    """Whether an executor's id of a compute is the runner that claimed the try: its pid (a local process),
    or its host name; a pod's id is ``namespace/name``, and its runner's host name is the pod's name."""
    return external_id == str(ti.pid) or external_id.rpartition("/")[2] == ti.hostname
