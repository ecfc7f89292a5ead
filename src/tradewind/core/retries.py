"""Retry policy of a task: whether a failed try gets another, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState
from tradewind.sdk.retry_policy import RetryAction, RetryDecision


def has_tries_left(try_number: int, max_tries: int) -> bool:
    """``max_tries`` counts retries: try 1 of a task with 2 retries may be followed by tries 2 and 3."""
    return try_number <= max_tries


def retry_delay(task: SerializedTask, try_number: int) -> timedelta:
    """The wait before the try after ``try_number``; doubles per try with exponential backoff."""
    delay = task.retry_delay
    if task.retry_exponential_backoff:
        delay = delay * (2 ** max(0, try_number - 1))
        if task.max_retry_delay is not None:
            delay = min(delay, task.max_retry_delay)
    return timedelta(seconds=delay)


def next_retry_at(task: SerializedTask, try_number: int, now: datetime) -> datetime:
    return now + retry_delay(task, try_number)


@dataclass(frozen=True, slots=True)
class FailedTryEnd:
    """How a failed try ends: up_for_retry with the time of the next try, or failed. ``policy_reason`` is
    the retry policy's reason when its decision shaped this end (else None)."""

    state: TaskInstanceState
    next_retry_at: datetime | None = None
    policy_reason: str | None = None


def failed_try_end(
    task: SerializedTask,
    *,
    try_number: int,
    max_tries: int,
    now: datetime,
    decision: RetryDecision | None = None,
) -> FailedTryEnd:
    """The end of a try that failed, from the task's retry settings and the decision of its retry policy:
    FAIL fails it even with retries left; RETRY retries it (after the rule's delay, if it has one) while
    retries are left; DEFAULT or no decision leaves it to the retry settings. A policy never adds tries."""
    action = decision.action if decision is not None else RetryAction.DEFAULT
    reason = decision.reason if decision is not None else None
    if action is RetryAction.FAIL:
        return FailedTryEnd(TaskInstanceState.FAILED, policy_reason=reason)
    if not has_tries_left(try_number, max_tries):
        return FailedTryEnd(TaskInstanceState.FAILED)
    if action is RetryAction.RETRY and decision is not None:
        delay = decision.retry_delay if decision.retry_delay is not None else retry_delay(task, try_number)
        return FailedTryEnd(TaskInstanceState.UP_FOR_RETRY, now + delay, policy_reason=reason)
    return FailedTryEnd(TaskInstanceState.UP_FOR_RETRY, next_retry_at(task, try_number, now))
