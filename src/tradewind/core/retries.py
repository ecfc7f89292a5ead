"""Retry policy of a task: whether a failed try gets another, and when."""

from __future__ import annotations

from datetime import datetime, timedelta

from tradewind.core.serialized_dag import SerializedTask


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
