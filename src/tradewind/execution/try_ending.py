"""The one place that decides how a try ends: from the runner's report, a dead process, a zombie check or a
failed pod alike. A failed try is retried or failed by ``core.retries.failed_try_end`` from the task's
stored retry settings (and its retry policy's decision, when the runner could ask it)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.retries import failed_try_end
from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState, ti_state_label, ti_state_or_none
from tradewind.sdk.retry_policy import RetryDecision
from tradewind.store import assets, task_history, task_instances
from tradewind.store.tables import TaskInstanceModel


@dataclass(frozen=True, slots=True)
class TryEnd:
    """A try's end as written: its state, next retry time and state reason."""

    state: TaskInstanceState
    next_retry_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TakenAway:
    """The try was not in an expected state: someone else moved it first (left alone). ``state`` is a label."""

    state: str


def end_try(
    *,
    session: Session,
    ti: TaskInstanceModel,
    outcome: str,
    task: SerializedTask | Callable[[], SerializedTask | None] | None,
    now: datetime,
    reason: str | None = None,
    decision: RetryDecision | None = None,
    expected: Collection[TaskInstanceState] = (TaskInstanceState.RUNNING,),
    allow_retry: bool = True,
    values: Mapping[str, Any] | None = None,
    asset_events: Sequence[Mapping[str, Any]] = (),
) -> TryEnd | TakenAway:
    """End ``ti``'s current try with compare-and-set from ``expected`` and archive it.

    ``outcome``: success, skipped, failed (retried while tries are left), failed_no_retry. ``task`` is the
    task as last parsed (its retry settings), or a function reading it, called only for a failure that may
    be retried (reading a large DAG for every success would cost more than the try); without it a failure
    is not retried. ``values`` are further
    columns (rendered fields). ``asset_events`` are recorded with a success, in the same transaction.
    """
    current = ti_state_or_none(ti.state)
    if current not in expected:
        return TakenAway(ti_state_label(current) if current is not None else "none")
    end = _decide(ti, outcome, task, now, reason, decision, allow_retry)
    start = ti.start_date or now
    columns: dict[str, Any] = {
        **(values or {}),
        "end_date": now,
        "duration": max(0.0, (now - start).total_seconds()),
        "state_reason": end.reason,
        "next_retry_at": end.next_retry_at,
        **task_instances.DEFERRAL_CLEARED,
    }
    key = TaskInstanceKey.of(ti)
    moved = task_instances.transition(
        session=session, key=key, expected=current, target=end.state, try_number=ti.try_number, values=columns
    )
    if not moved:
        session.refresh(ti)
        return TakenAway(ti_state_label(ti_state_or_none(ti.state)))
    # No refresh: the UPDATE set its values on ``ti`` as it went (synchronize_session="fetch"), and what it
    # left expired (a column set by an expression, ``updated_at``) loads when read, if ever.
    task_history.archive_try(session=session, ti=ti)
    if end.state is TaskInstanceState.SUCCESS and asset_events:
        source = assets.EventSource(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)
        assets.record_events(session=session, events=asset_events, source=source, now=now)
    return end


def _decide(
    ti: TaskInstanceModel,
    outcome: str,
    task: SerializedTask | Callable[[], SerializedTask | None] | None,
    now: datetime,
    reason: str | None,
    decision: RetryDecision | None,
    allow_retry: bool,
) -> TryEnd:
    if outcome == "success":  # a reason on a success is a note (its log lost lines, ...)
        return TryEnd(TaskInstanceState.SUCCESS, reason=reason)
    if outcome == "skipped":
        return TryEnd(TaskInstanceState.SKIPPED, reason=reason)
    if outcome not in ("failed", "failed_no_retry"):
        raise ValueError(f"unknown try outcome {outcome!r}")
    if callable(task) and outcome == "failed" and allow_retry:
        task = task()
    if outcome == "failed_no_retry" or not allow_retry or not isinstance(task, SerializedTask):
        return TryEnd(TaskInstanceState.FAILED, reason=reason)
    end = failed_try_end(task, try_number=ti.try_number, max_tries=ti.max_tries, now=now, decision=decision)
    return TryEnd(end.state, end.next_retry_at, end.policy_reason or reason)
