"""Task callbacks (on_success_callback, on_failure_callback, on_retry_callback), run after the state is
written; their errors are logged and never change the try's outcome."""

from __future__ import annotations

import logging
from typing import Any

from tradewind.core.states import TaskInstanceState
from tradewind.sdk.legacy_context import context_with

CALLBACK_FOR_STATE = {
    TaskInstanceState.SUCCESS: "on_success_callback",
    TaskInstanceState.FAILED: "on_failure_callback",
    TaskInstanceState.UP_FOR_RETRY: "on_retry_callback",
}


def run_callbacks(
    task: Any,
    state: TaskInstanceState,
    context: dict[str, Any],
    error: BaseException | None,
    *,
    log: logging.Logger,
) -> None:
    name = CALLBACK_FOR_STATE.get(state)
    if name is None:
        return
    value = getattr(task, name, None)
    callbacks = list(value) if isinstance(value, list | tuple) else ([value] if value is not None else [])
    if not callbacks:
        return
    callback_context = context_with(context, exception=error, reason=str(error) if error else None)
    for callback in callbacks:
        label = getattr(callback, "__qualname__", repr(callback))
        log.info("Running %s %s", name, label)
        try:
            callback(callback_context)
        except Exception as exc:  # a callback's failure is reported, never turned into the task's
            log.error("%s %s failed: %s: %s", name, label, type(exc).__name__, exc, exc_info=exc)
