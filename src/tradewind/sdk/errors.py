"""The one error tree of Tradewind, rooted at TradewindError.

    TradewindError
    ├── ConfigError                 invalid settings; names the key
    ├── DagDefinitionError          a DAG file that parses but is not a valid DAG
    │   ├── CycleError
    │   └── DuplicateTaskIdError
    ├── DagImportError              a DAG file that fails to import (syntax, import, timeout, exit)
    ├── TemplateError               a template field that fails to render
    ├── ParamValidationError        params / trigger conf that fail validation
    ├── RefusedInputError           input that can never be accepted (bad characters, out of range); names it
    ├── ConnectionFieldError        a connection that does not parse or decrypt; names it and the field
    ├── UnsafePathError             a file path built from ids that would leave its base folder
    ├── NotFoundError               a DAG, run, task, variable, pool, user ... that does not exist
    ├── ConflictError               a duplicate, or a state that changed under us
    │   └── InvalidTransitionError
    ├── PermissionDeniedError       an authenticated user without the right role
    ├── AuthenticationError         no or bad credentials
    ├── ExecutorError               an executor could not place or stop a workload
    ├── DeploymentError             `tradewind deploy` could not install, reach or verify a release
    ├── NoTaskContextError          get_current_context() called outside a running task (also RuntimeError)
    ├── TaskStateValueError         a task state store value that cannot be stored (also ValueError)
    ├── MissingDependencyError      an optional library a feature needs is not installed (also ImportError)
    ├── TaskExecutionError          a task's own work failed (non-zero exit code, timeout ...)
    │   ├── TaskTimeoutError        execution_timeout passed
    │   ├── ExternalSystemError     a hook's external system refused or failed a request; names the connection
    │   ├── TaskDeferralError       the trigger a deferred task waited on failed (Airflow: TaskDeferralError)
    │   └── TaskDeferralTimeout     a deferred task's timeout passed (Airflow: TaskDeferralTimeout)
    └── TaskControlSignal           raised by task code to steer its own outcome
        ├── TaskSkipped             (Airflow: AirflowSkipException)
        ├── TaskFailedNoRetry       (Airflow: AirflowFailException)
        │   └── SensorTimeout       a sensor's timeout passed (Airflow: AirflowSensorTimeout)
        ├── TaskRescheduled         end this try for now, go on at a date (Airflow: AirflowRescheduleException)
        └── TaskDeferred            end this try for now, go on when a trigger fires (Airflow: TaskDeferred)

HTTP status codes for these live only in ``tradewind.api.errors``; exit codes only in ``tradewind.cli.main``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


class TradewindError(Exception):
    """Root of every error Tradewind raises on purpose."""


class ConfigError(TradewindError):
    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class DagDefinitionError(TradewindError):
    """A DAG object that is not valid (cycle, duplicate ids, bad arguments)."""

    def __init__(self, message: str, *, dag_id: str | None = None) -> None:
        super().__init__(message)
        self.dag_id = dag_id


class CycleError(DagDefinitionError):
    pass


class DuplicateTaskIdError(DagDefinitionError):
    pass


class DagImportError(TradewindError):
    """A DAG file that could not be imported. Carries file and line for the import-errors table."""

    def __init__(self, message: str, *, filename: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno


class TemplateError(TradewindError):
    def __init__(self, message: str, *, task_id: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.field = field


class ParamValidationError(TradewindError):
    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class RefusedInputError(TradewindError):
    """Input no request could have made acceptable: a run id with forbidden characters or too long, a date
    or number out of the representable range, conf nested too deeply. ``field`` names it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ConnectionFieldError(TradewindError):
    """A connection whose URI, JSON form or stored field cannot be read. The message never holds a secret."""

    def __init__(self, message: str, *, conn_id: str | None, field: str) -> None:
        super().__init__(f"connection {conn_id!r}, field {field!r}: {message}")
        self.conn_id = conn_id
        self.field = field


class UnsafePathError(TradewindError):
    """A log (or other) file path built from DAG, task or run ids that resolves outside its base folder."""

    def __init__(self, message: str, *, base: str, path: str) -> None:
        super().__init__(message)
        self.base = base
        self.path = path


class NotFoundError(TradewindError):
    def __init__(self, message: str, *, kind: str = "object", ident: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.ident = ident


class ConflictError(TradewindError):
    pass


class InvalidTransitionError(ConflictError):
    def __init__(self, kind: str, current: object, target: object) -> None:
        super().__init__(f"{kind} cannot go from {current!s} to {target!s}")
        self.kind = kind
        self.current = current
        self.target = target


class AuthenticationError(TradewindError):
    pass


class PermissionDeniedError(TradewindError):
    pass


class ExecutorError(TradewindError):
    pass


class DeploymentError(TradewindError):
    """Installing or checking a release on Kubernetes failed (cluster unreachable, helm failed, stuck pods)."""


class NoTaskContextError(TradewindError, RuntimeError):
    """The context of the running task was asked for where no task runs (a RuntimeError, as in Airflow)."""


class TaskStateValueError(TradewindError, ValueError):
    """A value given to the task state store is None or not JSON-serialisable (a ValueError, as in Airflow)."""


class MissingDependencyError(TradewindError, ImportError):
    """A feature needs a library that is not installed (pandas for ``get_pandas_df`` ...); names the package
    and how to install it (an ImportError too, so ``except ImportError`` around optional features works)."""

    def __init__(self, message: str, *, package: str) -> None:
        super().__init__(message)
        self.package = package


class TaskExecutionError(TradewindError):
    """A task's work failed in a way the operator detected (non-zero exit code ...)."""


class TaskTimeoutError(TaskExecutionError):
    """The task ran longer than its execution_timeout."""


class ExternalSystemError(TaskExecutionError):
    """A system a hook talks to answered with an error (HTTP 4xx/5xx, S3 access denied, a bad signature ...)
    or could not be reached. Names the connection id and, when there is one, the status; never a secret."""

    def __init__(self, message: str, *, conn_id: str | None, status: int | str | None = None) -> None:
        super().__init__(message)
        self.conn_id = conn_id
        self.status = status


class TaskDeferralError(TaskExecutionError):
    """The trigger a deferred task waited on failed (its traceback is in the task log)."""


class TaskDeferralTimeout(TaskExecutionError):
    """A deferred task's ``timeout`` passed before its trigger fired."""


class TaskControlSignal(TradewindError):
    """Raised by task code to decide its own outcome."""


class TaskSkipped(TaskControlSignal):
    """Raise inside a task to end it as skipped."""


class TaskFailedNoRetry(TaskControlSignal):
    """Raise inside a task to fail it without using its remaining retries."""


class SensorTimeout(TaskFailedNoRetry):
    """A sensor's ``timeout`` passed before its condition was met (retries are not used, as in Airflow)."""


class TaskRescheduled(TaskControlSignal):
    """Raise inside a task to end the try for now (state up_for_reschedule, same try number); the
    scheduler starts it again at ``reschedule_date``. What sensors in reschedule mode raise."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__(f"rescheduled to {reschedule_date.isoformat()}")
        self.reschedule_date = reschedule_date


class TaskDeferred(TaskControlSignal):
    """Raised by ``BaseOperator.defer``: end the try for now (state deferred, slot freed, same try number);
    when ``trigger`` fires, the task resumes in ``method_name`` with ``kwargs`` and the event."""

    def __init__(
        self,
        *,
        trigger: Any,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | float | None = None,
    ) -> None:
        super().__init__(f"deferred on {type(trigger).__name__}, resuming in {method_name}")
        self.trigger = trigger
        self.method_name = method_name
        self.kwargs = kwargs
        self.timeout = timedelta(seconds=timeout) if isinstance(timeout, int | float) else timeout
