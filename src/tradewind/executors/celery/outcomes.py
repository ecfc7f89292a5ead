"""Read Celery task states (as stored by the result backend) as TaskEvents about the tries they carry."""

from __future__ import annotations

import signal
from typing import Any

from celery import states

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey

#: Stored by the executor just before it publishes a try, so a restarted scheduler can tell "sent, not yet
#: picked up" (adoptable) from "never heard of" (PENDING is what Celery reports for any unknown id).
SENT = "SENT"

#: States after which Celery will not report anything new about the task.
FINAL_STATES = frozenset({states.SUCCESS, states.FAILURE, states.REVOKED})
#: States meaning the task is known to Celery and not finished.
IN_FLIGHT_STATES = frozenset({SENT, states.RECEIVED, states.STARTED, states.RETRY})


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"runner killed by {signal.Signals(-code).name} on the Celery worker"
        except ValueError:
            return f"runner killed by signal {-code} on the Celery worker"
    return f"runner exited with code {code} on the Celery worker"


def _describe_failure(result: Any) -> str:
    if isinstance(result, BaseException):
        return f"Celery task failed: {type(result).__name__}: {result}"
    if isinstance(result, dict) and "exc_type" in result:
        return f"Celery task failed: {result.get('exc_type')}: {result.get('exc_message')}"
    return f"Celery task failed: {result!r}"


def event_for_state(key: TaskTryKey, task_id: str, status: str, result: Any) -> TaskEvent | None:
    """The event a Celery state means for ``key``; None while nothing is known beyond "sent"."""
    if status == states.STARTED:
        return TaskEvent(key, TryProcessEvent.STARTED, external_id=task_id)
    if status == states.SUCCESS:
        if result == 0:
            return TaskEvent(key, TryProcessEvent.EXITED_CLEANLY, external_id=task_id)
        reason = describe_exit(result) if isinstance(result, int) else f"unexpected Celery result {result!r}"
        return TaskEvent(key, TryProcessEvent.FAILED, reason=reason, external_id=task_id)
    if status == states.FAILURE:
        return TaskEvent(key, TryProcessEvent.FAILED, reason=_describe_failure(result), external_id=task_id)
    if status == states.REVOKED:
        reason = "revoked (terminated) on the Celery worker"
        return TaskEvent(key, TryProcessEvent.FAILED, reason=reason, external_id=task_id)
    return None
