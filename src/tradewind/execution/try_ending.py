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
from tradewind.core.transitions import check_ti_transition
from tradewind.execution import try_rows
from tradewind.sdk.errors import NotFoundError
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


def end_reported_try(
    *,
    session: Session,
    key: TaskInstanceKey,
    try_number: int,
    outcome: str,
    task: Callable[[], SerializedTask | None],
    now: datetime,
    reason: str | None = None,
    decision: RetryDecision | None = None,
    rendered_fields: dict[str, Any] | None = None,
    asset_events: Sequence[Mapping[str, Any]] = (),
) -> TryEnd | TakenAway:
    """``end_try`` for a runner's report of its running try ``try_number``, in three prebuilt statements
    (``try_rows``: read, compare-and-set, history) instead of an ORM object. The same decision, columns and
    history row; a try someone else moved (or at another try number) is TakenAway."""
    row = try_rows.read_try_row(session, key)
    if row is None:
        raise NotFoundError(f"task instance {key} does not exist", kind="task_instance", ident=str(key))
    current = ti_state_or_none(row.state)
    if row.try_number != try_number:
        return TakenAway(f"{ti_state_label(current)} (now at try {row.try_number})")
    if current is not TaskInstanceState.RUNNING:
        return TakenAway(ti_state_label(current) if current is not None else "none")
    end = _decide(row, outcome, task, now, reason, decision, True)
    check_ti_transition(current, end.state)
    start = row.start_date or now
    values: dict[str, Any] = {
        "rendered_fields": rendered_fields,
        "end_date": now,
        "duration": max(0.0, (now - start).total_seconds()),
        "state_reason": end.reason,
        "next_retry_at": end.next_retry_at,
        **task_instances.DEFERRAL_CLEARED,
    }
    kept = try_rows.end_try_row(
        session, key, try_number=try_number, expected=current.value, target=end.state.value, values=values
    )
    if kept is None:
        moved = try_rows.read_try_row(session, key)
        return TakenAway(ti_state_label(ti_state_or_none(moved.state if moved is not None else None)))
    if try_number > 0:
        try_rows.archive_row(session, {
            "dag_id": key.dag_id, "run_id": key.run_id, "task_id": key.task_id, "map_index": key.map_index,
            "try_number": try_number, "state": end.state.value, "start_date": kept.start_date,
            "end_date": now, "duration": values["duration"], "hostname": kept.hostname,
            "executor": kept.executor, "external_executor_id": kept.external_executor_id,
            "state_reason": end.reason,
        })  # fmt: skip
    if end.state is TaskInstanceState.SUCCESS and asset_events:
        source = assets.EventSource(key.dag_id, key.task_id, key.run_id, key.map_index)
        assets.record_events(session=session, events=asset_events, source=source, now=now)
    return end


def _decide(
    ti: Any,
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
    # ``ti``: anything with the try's ``try_number`` and ``max_tries`` (a model object or a row).
    if callable(task) and outcome == "failed" and allow_retry:
        task = task()
    if outcome == "failed_no_retry" or not allow_retry or not isinstance(task, SerializedTask):
        return TryEnd(TaskInstanceState.FAILED, reason=reason)
    end = failed_try_end(task, try_number=ti.try_number, max_tries=ti.max_tries, now=now, decision=decision)
    return TryEnd(end.state, end.next_retry_at, end.policy_reason or reason)
