"""Running one task with its context: render its templates, execute it under its timeout, push its result,
and say how the try ended. Shared by `tasks run` (recorded) and `tasks test` (in memory)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tradewind.core.json_values import to_tagged_json
from tradewind.runner.interrupts import ExecutionTimeout, TaskTerminated, execution_timeout
from tradewind.runner.secrets_masking import SecretsMasker
from tradewind.sdk.context import set_current_context
from tradewind.sdk.errors import (
    TaskDeferred,
    TaskFailedNoRetry,
    TaskRescheduled,
    TaskSkipped,
    TaskTimeoutError,
    TradewindError,
)
from tradewind.sdk.retry_policy import RetryDecision, consult_policy

RETURN_VALUE_KEY = "return_value"

#: Pushes one XCom of the running try: ``push(key, value)``.
XComPusher = Callable[[str, Any], None]


class Ending(StrEnum):
    """How task code ended, before retries are taken into account."""

    SUCCESS = "success"
    SKIPPED = "skipped"
    FAILED = "failed"  # may be retried
    FAILED_NO_RETRY = "failed_no_retry"  # TaskFailedNoRetry: retries are not used
    RESCHEDULED = "rescheduled"  # TaskRescheduled: the try goes on at ``TaskResult.reschedule_date``
    DEFERRED = "deferred"  # TaskDeferred: the try goes on when ``TaskResult.deferral``'s trigger fires


@dataclass(frozen=True)
class Deferral:
    """A deferral as the execution API stores it: the trigger serialized, and where the task resumes (the
    keyword arguments in tagged JSON, ``core.json_values``)."""

    trigger: Any
    classpath: str
    kwargs: dict[str, Any]
    next_method: str
    next_kwargs: dict[str, Any] | None
    timeout_seconds: float | None

    @classmethod
    def of(cls, signal: TaskDeferred) -> Deferral:
        """TypeError or ValueError when the trigger cannot be stored (arguments JSON cannot hold ...)."""
        classpath, kwargs = signal.trigger.serialize()
        if not isinstance(classpath, str) or not isinstance(kwargs, dict):
            raise TypeError(f"{type(signal.trigger).__name__}.serialize() must return (str, dict)")
        if not isinstance(signal.method_name, str) or not signal.method_name:
            raise TypeError("defer() needs method_name: the name of the method the task resumes in")
        return cls(
            trigger=signal.trigger,
            classpath=classpath,
            kwargs=to_tagged_json(kwargs),
            next_method=signal.method_name,
            next_kwargs=to_tagged_json(signal.kwargs) if signal.kwargs is not None else None,
            timeout_seconds=signal.timeout.total_seconds() if signal.timeout is not None else None,
        )


@dataclass
class TaskResult:
    ending: Ending
    reason: str | None = None
    error: BaseException | None = None
    rendered_fields: dict[str, Any] = field(default_factory=dict)
    #: True when the task was stopped by SIGTERM or the heartbeat (on_kill has run).
    terminated: bool = False
    #: When a rescheduled try (a sensor in reschedule mode) pokes again.
    reschedule_date: datetime | None = None
    #: What the task's retry_policy decided for the exception of a failed try (None: no policy).
    decision: RetryDecision | None = None
    #: What a deferred try waits on.
    deferral: Deferral | None = None


@dataclass(frozen=True)
class Resume:
    """A deferred try going on: call ``task.resume_execution(next_method, next_kwargs, context)``."""

    next_method: str
    next_kwargs: dict[str, Any] | None


def execute_task(
    task: Any,
    context: dict[str, Any],
    *,
    push_xcom: XComPusher,
    log: logging.Logger,
    masker: SecretsMasker | None = None,
    user_code: Callable[[], AbstractContextManager[None]] = nullcontext,
    resume: Resume | None = None,
) -> TaskResult:
    """Render ``task``'s template fields, run ``execute`` (or, with ``resume``, ``resume_execution``) with its
    ``execution_timeout`` and push the result.

    ``user_code`` wraps each stretch of task code (the supervisor raises TaskTerminated into it). Never
    raises for what task code does: every ending, including timeouts and termination, is a TaskResult.
    """
    result = TaskResult(Ending.FAILED)
    try:
        with user_code(), set_current_context(context):
            task.render_template_fields(context)
        result.rendered_fields = rendered_fields(task, masker)
        timeout = task.execution_timeout.total_seconds() if task.execution_timeout else None
        with user_code(), execution_timeout(timeout), set_current_context(context):
            task.pre_execute(context)
            if resume is None:
                value = task.execute(context)
            else:
                value = task.resume_execution(resume.next_method, resume.next_kwargs, context)
            task.post_execute(context, value)
        push_result(task, value, push_xcom)
        result.ending = Ending.SUCCESS
    except TaskSkipped as exc:
        log.info("Task skipped: %s", exc or "TaskSkipped raised")
        result.ending, result.reason = Ending.SKIPPED, str(exc) or "skipped"
    except TaskRescheduled as exc:
        log.info("Rescheduling: the next poke is due at %s", exc.reschedule_date.isoformat())
        result.ending, result.reschedule_date = Ending.RESCHEDULED, exc.reschedule_date
    except TaskDeferred as exc:
        try:
            result.deferral = Deferral.of(exc)
        except (TypeError, ValueError) as bad:
            log.error("Task deferred on a trigger that cannot be stored: %s", bad)
            result.reason, result.error = f"the trigger cannot be stored: {bad}", bad
        else:
            log.info("Deferring: waiting on %s, resuming in %s", result.deferral.classpath, exc.method_name)
            result.ending = Ending.DEFERRED
    except TaskFailedNoRetry as exc:
        log.error("Task failed without retry: %s", exc)
        result.ending, result.reason, result.error = Ending.FAILED_NO_RETRY, _describe(exc), exc
    except ExecutionTimeout as exc:
        log.error("Task timed out: %s; killing it", exc)
        _kill(task, log)
        result.reason, result.error = f"timed out: {exc}", exc
        # A policy sees the timeout as task code would raise it (Airflow: AirflowTaskTimeout).
        result.decision = _policy_decision(task, TaskTimeoutError(result.reason), context, log)
    except TaskTerminated as exc:
        log.error("Task stopped: %s; killing it", exc.reason)
        _kill(task, log)
        result.reason, result.error, result.terminated = exc.reason, exc, True
    except (Exception, SystemExit) as exc:  # task code may raise anything; it is this try's failure
        log.error("Task failed: %s", _describe(exc), exc_info=exc)
        result.reason, result.error = _describe(exc), exc
        result.decision = _policy_decision(task, exc, context, log)
    return result


def _policy_decision(
    task: Any, exc: BaseException, context: Mapping[str, Any], log: logging.Logger
) -> RetryDecision | None:
    ti = context.get("ti")
    return consult_policy(
        getattr(task, "retry_policy", None),
        exc,
        try_number=getattr(ti, "try_number", 1),
        max_tries=getattr(ti, "max_tries", 0),
        context=context,
        log=log,
    )


def push_result(task: Any, value: Any, push_xcom: XComPusher) -> None:
    """Push the return value as ``return_value`` (and each key of a dict with ``multiple_outputs``)."""
    if not task.do_xcom_push or value is None:
        return
    if task.multiple_outputs:
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise TradewindError(
                f"task {task.task_id!r} has multiple_outputs=True, so it must return a dict with str keys; "
                f"it returned {type(value).__name__}"
            )
        for key, item in value.items():
            push_xcom(key, item)
    push_xcom(RETURN_VALUE_KEY, value)


def rendered_fields(task: Any, masker: SecretsMasker | None) -> dict[str, Any]:
    """The rendered template fields as JSON data, secrets masked (for the UI: what actually ran)."""
    values = {name: getattr(task, name, None) for name in task.template_fields}
    if masker is not None:
        values = {name: masker.redact(value, name) for name, value in values.items()}
    return {name: _jsonable(value) for name, value in values.items()}


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        pass
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return repr(value)


def _kill(task: Any, log: logging.Logger) -> None:
    try:
        task.on_kill()
    except Exception as exc:  # a broken on_kill must not keep the try from being recorded
        log.error("on_kill of task %r failed: %s", task.task_id, _describe(exc), exc_info=exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"task code called sys.exit({exc.code!r})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
