"""Stored triggers: created when a try defers, claimed by triggerers, fired or failed into their task
instances, timed out and cleaned up by the scheduler.

Exactly once: a triggerer only fires a trigger it still holds (``DELETE ... WHERE triggerer_id = me`` in the
same transaction as the task instances it moves), so a triggerer taken for dead and replaced cannot fire it
a second time. On PostgreSQL candidate rows are claimed with ``FOR UPDATE SKIP LOCKED``; on SQLite each claim
is a conditional UPDATE.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from tradewind.core.states import TaskInstanceState
from tradewind.core.transitions import check_ti_transition
from tradewind.sdk.triggers.base import FAIL_METHOD, FAILURE_ERROR, TIMEOUT_ERROR
from tradewind.store import assets
from tradewind.store.tables import AssetWatcherModel, TaskInstanceModel, TriggerModel


@dataclass(frozen=True)
class StoredTrigger:
    id: int
    classpath: str
    kwargs: dict[str, Any]


def create_trigger(*, session: Session, classpath: str, kwargs: dict[str, Any], now: datetime) -> int:
    row = TriggerModel(classpath=classpath, kwargs=kwargs, created_date=now, triggerer_id=None)
    session.add(row)
    session.flush()
    return row.id


def delete_trigger(*, session: Session, trigger_id: int) -> None:
    session.execute(
        delete(TriggerModel).where(TriggerModel.id == trigger_id).execution_options(synchronize_session=False)
    )


def claim_triggers(
    *, session: Session, triggerer_id: int, alive_triggerer_ids: Collection[int], limit: int
) -> list[int]:
    """Take up to ``limit`` triggers nobody alive holds (unclaimed, or held by a triggerer that stopped
    heartbeating); returns the ids taken."""
    if limit <= 0:
        return []
    holders = [i for i in alive_triggerer_ids if i != triggerer_id]
    free = or_(
        TriggerModel.triggerer_id.is_(None), TriggerModel.triggerer_id.not_in([triggerer_id, *holders])
    )
    stmt = (
        select(TriggerModel.id, TriggerModel.triggerer_id).where(free).order_by(TriggerModel.id).limit(limit)
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    taken = []
    for trigger_id, holder in session.execute(stmt).all():
        condition = (
            TriggerModel.triggerer_id.is_(None) if holder is None else TriggerModel.triggerer_id == holder
        )
        result = session.execute(
            update(TriggerModel)
            .where(TriggerModel.id == trigger_id, condition)
            .values(triggerer_id=triggerer_id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(trigger_id)
    return taken


def held_trigger_ids(*, session: Session, triggerer_id: int) -> set[int]:
    """The ids of the triggers ``triggerer_id`` holds (cheap: a triggerer asks every poll)."""
    return set(session.scalars(select(TriggerModel.id).where(TriggerModel.triggerer_id == triggerer_id)))


def triggers_by_id(*, session: Session, ids: Collection[int]) -> list[StoredTrigger]:
    """The stored triggers with these ids, oldest first (those deleted meanwhile are left out)."""
    found: list[StoredTrigger] = []
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):  # bounded IN lists
        rows = session.execute(
            select(TriggerModel.id, TriggerModel.classpath, TriggerModel.kwargs)
            .where(TriggerModel.id.in_(wanted[start : start + 500]))
            .order_by(TriggerModel.id)
        )
        found += [StoredTrigger(i, classpath, dict(kwargs or {})) for i, classpath, kwargs in rows]
    return found


def release_triggers(*, session: Session, triggerer_id: int) -> int:
    """A triggerer stopping gives its triggers back at once (others need not wait for its heartbeat to age)."""
    result = session.execute(
        update(TriggerModel)
        .where(TriggerModel.triggerer_id == triggerer_id)
        .values(triggerer_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def is_watcher(*, session: Session, trigger_id: int) -> bool:
    """Whether the trigger is an asset watcher's (kept after it fires or fails, and started again)."""
    return bool(assets.watched_asset_ids(session=session, trigger_id=trigger_id))


def _holds(session: Session, trigger_id: int, triggerer_id: int) -> bool:
    stmt = select(TriggerModel.id).where(
        TriggerModel.id == trigger_id, TriggerModel.triggerer_id == triggerer_id
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalar(stmt) is not None


def fire_trigger(
    *, session: Session, trigger_id: int, triggerer_id: int, payload: Any, now: datetime
) -> int | None:
    """The trigger fired: every task instance deferred on it is scheduled again with the event in its
    ``next_kwargs`` and the trigger row is deleted. None when ``triggerer_id`` no longer holds the trigger
    (taken over, or gone): nothing is changed. Otherwise how many task instances were scheduled.

    An asset watcher's trigger instead records an asset event for each asset it watches (so the DAGs
    scheduled on them run) and is kept: it watches on; the count is then the number of events."""
    asset_ids = assets.watched_asset_ids(session=session, trigger_id=trigger_id)
    if asset_ids:
        if not _holds(session, trigger_id, triggerer_id):
            return None
        return len(
            assets.record_watcher_events(session=session, asset_ids=asset_ids, payload=payload, now=now)
        )
    return _settle(
        session, trigger_id, triggerer_id, now, lambda kwargs: (None, {**(kwargs or {}), "event": payload})
    )


def fail_trigger(
    *, session: Session, trigger_id: int, triggerer_id: int, traceback: list[str], now: datetime
) -> int | None:
    """The trigger raised (or ended without an event): its task instances are scheduled to fail with the
    traceback. None when ``triggerer_id`` no longer holds it."""
    if is_watcher(session=session, trigger_id=trigger_id):  # a watcher is kept, and started again
        return 0 if _holds(session, trigger_id, triggerer_id) else None
    failure = {"error": FAILURE_ERROR, "traceback": traceback}
    return _settle(session, trigger_id, triggerer_id, now, lambda _kwargs: (FAIL_METHOD, failure))


def _settle(session: Session, trigger_id: int, triggerer_id: int, now: datetime, resume: Any) -> int | None:
    deleted = session.execute(
        delete(TriggerModel)
        .where(TriggerModel.id == trigger_id, TriggerModel.triggerer_id == triggerer_id)
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        return None
    check_ti_transition(TaskInstanceState.DEFERRED, TaskInstanceState.SCHEDULED)
    rows = session.execute(
        select(TaskInstanceModel.id, TaskInstanceModel.next_method, TaskInstanceModel.next_kwargs).where(
            TaskInstanceModel.trigger_id == trigger_id, TaskInstanceModel.state == TaskInstanceState.DEFERRED
        )
    ).all()
    moved = 0
    for ti_id, next_method, next_kwargs in rows:
        method, kwargs = resume(next_kwargs)
        result = session.execute(
            update(TaskInstanceModel)
            .where(
                TaskInstanceModel.id == ti_id,
                TaskInstanceModel.trigger_id == trigger_id,
                TaskInstanceModel.state == TaskInstanceState.DEFERRED,
            )
            .values(
                state=TaskInstanceState.SCHEDULED.value,
                next_method=method or next_method,
                next_kwargs=kwargs,
                trigger_id=None,
                trigger_timeout=None,
                scheduled_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount  # type: ignore[attr-defined]
    return moved


def time_out_deferred(*, session: Session, now: datetime) -> int:
    """Deferred tries whose ``trigger_timeout`` passed are scheduled to fail with a timeout error."""
    check_ti_transition(TaskInstanceState.DEFERRED, TaskInstanceState.SCHEDULED)
    result = session.execute(
        update(TaskInstanceModel)
        .where(TaskInstanceModel.state == TaskInstanceState.DEFERRED, TaskInstanceModel.trigger_timeout < now)
        .values(
            state=TaskInstanceState.SCHEDULED.value,
            next_method=FAIL_METHOD,
            next_kwargs={"error": TIMEOUT_ERROR},
            trigger_id=None,
            trigger_timeout=None,
            scheduled_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_unreferenced(*, session: Session) -> int:
    """Delete the triggers no deferred task instance waits on any more (cleared, marked, timed out); asset
    watchers' triggers are the DAG processor's (kept while their asset is scheduled on)."""
    waiting = exists().where(
        TaskInstanceModel.trigger_id == TriggerModel.id, TaskInstanceModel.state == TaskInstanceState.DEFERRED
    )
    watching = exists().where(AssetWatcherModel.trigger_id == TriggerModel.id)
    result = session.execute(
        delete(TriggerModel).where(~waiting, ~watching).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
