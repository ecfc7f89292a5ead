"""BaseSensorOperator and PokeReturnValue: poke a condition until it holds, within a timeout.

In ``mode="poke"`` the try sleeps between pokes and holds its slot; in ``mode="reschedule"`` each poke that
finds the condition false ends the try for now (``TaskRescheduled``): the slot is free until the next poke,
the try number stays, and the timeout counts from the try's first poke across the reschedules.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import (
    DagDefinitionError,
    SensorTimeout,
    TaskControlSignal,
    TaskDeferralError,
    TaskDeferralTimeout,
    TaskExecutionError,
    TaskFailedNoRetry,
    TaskRescheduled,
    TaskSkipped,
    TaskTimeoutError,
)
from tradewind.sdk.operators.python import emit
from tradewind.sdk.runtime import RescheduleHistory, get_runtime
from tradewind.sdk.triggers.base import BaseTrigger
from tradewind.sdk.triggers.temporal import DateTimeTrigger

#: Airflow's ``[sensors] default_timeout``: seven days.
DEFAULT_SENSOR_TIMEOUT = 7 * 24 * 3600.0
VALID_MODES = ("poke", "reschedule")
#: Arguments of Airflow's deferrable time sensors that only steer the triggerer; accepted and ignored.
TRIGGER_ONLY_ARGUMENTS = ("start_from_trigger", "end_from_trigger", "trigger_kwargs")


class PokeReturnValue:
    """What ``poke`` may return instead of a bool: whether the condition holds, and the value to push as
    the task's XCom when it does."""

    def __init__(self, is_done: bool, xcom_value: Any = None) -> None:
        self.is_done = is_done
        self.xcom_value = xcom_value

    def __bool__(self) -> bool:
        return self.is_done

    def __repr__(self) -> str:
        return f"PokeReturnValue(is_done={self.is_done!r}, xcom_value={self.xcom_value!r})"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _seconds(value: timedelta | float | None, name: str, where: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise DagDefinitionError(
            f"{where}: {name} must be a timedelta or a non-negative number; got {value!r}"
        )
    return float(seconds)


class BaseSensorOperator(BaseOperator):
    """Subclasses implement ``poke(context)``, returning a bool or a ``PokeReturnValue``.

    ``poke_interval`` and ``timeout`` (default seven days) take seconds or a timedelta; ``soft_fail`` skips
    the task instead of failing it on timeout; ``exponential_backoff`` doubles the wait after each poke
    (bounded by ``max_wait`` and by the time left before the timeout); ``silent_fail`` treats an exception
    raised by ``poke`` as "not yet"; ``never_fail`` skips on any error. ``deferrable=True`` pokes once and
    then defers on the sensor's trigger (``deferral_trigger``: the time sensors, FileSensor,
    ExternalTaskSensor and HttpSensor have one), freeing the slot until the triggerer sees the condition
    hold; a sensor without a trigger runs in reschedule mode instead.
    """

    ui_color = "#e6f1f2"
    #: Whether ``mode`` may be switched to "reschedule" (what `dags test` does with waiting tasks).
    can_reschedule = True

    def __init__(
        self,
        *,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float | None = None,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: timedelta | float | None = None,
        silent_fail: bool = False,
        never_fail: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        where = f"{type(self).__name__}(task_id={self.task_id!r})"
        self.poke_interval = _seconds(poke_interval, "poke_interval", where) or 0.0
        timeout_seconds = _seconds(timeout, "timeout", where)
        self.timeout: float = DEFAULT_SENSOR_TIMEOUT if timeout_seconds is None else timeout_seconds
        self.max_wait = _seconds(max_wait, "max_wait", where)
        if mode not in VALID_MODES:
            raise DagDefinitionError(f"{where}: mode must be one of {', '.join(VALID_MODES)}; got {mode!r}")
        if soft_fail and never_fail:
            raise DagDefinitionError(f"{where}: soft_fail and never_fail cannot both be set")
        self.deferrable = bool(deferrable)
        self.mode = "reschedule" if self.deferrable else mode
        self.soft_fail = soft_fail
        self.exponential_backoff = exponential_backoff
        self.silent_fail = silent_fail
        self.never_fail = never_fail

    @property
    def reschedule(self) -> bool:
        return self.mode == "reschedule"

    def poke(self, context: Mapping[str, Any]) -> bool | PokeReturnValue:
        raise NotImplementedError(f"{type(self).__name__} must implement poke(context)")

    def execute(self, context: Mapping[str, Any]) -> Any:
        if self.deferrable:
            trigger = self.deferral_trigger(context)
            if trigger is not None:
                result = self._poke_once(context)
                if result:
                    emit("Success criteria met. Exiting.")
                    return result.xcom_value if isinstance(result, PokeReturnValue) else None
                emit(f"Deferring: the triggerer waits on {type(trigger).__name__} (the slot is free meanwhile)")
                self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=self.timeout))
            emit(
                f"deferrable=True: {type(self).__name__} has no trigger to wait on, so it runs in reschedule mode "
                "(the slot is freed between pokes)"
            )
        history = self._history(context)
        start = (history.first_start or utcnow()) if self.reschedule else utcnow()
        pokes = history.count + 1
        while True:
            result = self._poke_once(context)
            if result:
                emit("Success criteria met. Exiting.")
                return result.xcom_value if isinstance(result, PokeReturnValue) else None
            elapsed = (utcnow() - start).total_seconds()
            if elapsed > self.timeout:
                message = (
                    f"Sensor has timed out; run duration of {elapsed:.1f} seconds exceeds the specified "
                    f"timeout of {self.timeout:g}."
                )
                if self.soft_fail:
                    raise TaskSkipped(message)
                raise SensorTimeout(message)
            wait = self.next_poke_interval(pokes, elapsed)
            due = self.condition_due(context)
            if due is not None:  # a time sensor need not wait past its moment
                wait = min(wait, max((due - utcnow()).total_seconds(), 0.0))
            if self.reschedule:
                raise TaskRescheduled(utcnow() + timedelta(seconds=wait))
            time.sleep(wait)
            pokes += 1

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Mapping[str, Any]
    ) -> Any:
        """As BaseOperator's, with a sensor's meaning: a deferral timeout is the sensor's timeout, and with
        ``soft_fail`` a failed or timed-out trigger skips the task."""
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except TaskDeferralTimeout as exc:
            if self.soft_fail:
                raise TaskSkipped(f"skipped because soft_fail is set: {exc}") from exc
            raise SensorTimeout(str(exc)) from exc
        except TaskDeferralError as exc:
            if self.soft_fail:
                raise TaskSkipped(f"skipped because soft_fail is set: {exc}") from exc
            raise

    def deferral_trigger(self, context: Mapping[str, Any]) -> BaseTrigger | None:
        """What a deferrable sensor waits on: a DateTimeTrigger for a time sensor (its condition is due at a
        known moment); subclasses with a trigger of their own return it. None: reschedule mode instead."""
        due = self.condition_due(context)
        return DateTimeTrigger(due) if due is not None else None

    def execute_complete(self, context: Mapping[str, Any], event: Any = None) -> Any:
        """Where a deferred sensor resumes: the event says the condition holds, or (``{"status": ...}``) that
        what it waits on failed or was skipped."""
        status = event.get("status") if isinstance(event, Mapping) else None
        if status in ("failed", "error"):
            message = f"{type(self).__name__}: {event.get('message') or 'what it waited on failed'}"
            if self.soft_fail:
                raise TaskSkipped(f"skipped because soft_fail is set: {message}")
            raise TaskExecutionError(message)
        if status == "skipped":
            raise TaskSkipped(f"{type(self).__name__}: what it waited on was skipped")
        emit("Success criteria met. Exiting.")
        return None

    def condition_due(self, context: Mapping[str, Any]) -> datetime | None:
        """When the condition is known to hold (time sensors); None when it cannot be known in advance."""
        return None

    def _history(self, context: Mapping[str, Any]) -> RescheduleHistory:
        ti = context.get("ti")
        if not self.reschedule or ti is None:
            return RescheduleHistory(count=0, first_start=None)
        return get_runtime().reschedule_history(
            dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index,
            try_number=ti.try_number,
        )  # fmt: skip

    def _poke_once(self, context: Mapping[str, Any]) -> bool | PokeReturnValue:
        try:
            return self.poke(context)
        except (TaskFailedNoRetry, TaskTimeoutError) as exc:
            if self.soft_fail or self.never_fail:
                raise TaskSkipped(
                    f"skipped because {'soft_fail' if self.soft_fail else 'never_fail'} is set: {exc}"
                ) from exc
            raise
        except TaskControlSignal:
            raise
        except Exception as exc:
            if self.silent_fail:
                emit(f"Sensor poke failed (silent_fail is set, poking again): {type(exc).__name__}: {exc}")
                return False
            if self.never_fail:
                raise TaskSkipped(f"skipped because never_fail is set: {type(exc).__name__}: {exc}") from exc
            raise

    def next_poke_interval(self, pokes: int, elapsed: float) -> float:
        """Seconds to wait after poke number ``pokes`` (1 for the first) of the try.

        ``poke_interval``, or with exponential backoff ``poke_interval * 2 ** (pokes - 1)`` (at least 1 s) and
        never more than ``max_wait``; in both cases never more than the time left before the timeout."""
        interval = self.poke_interval
        if self.exponential_backoff:
            interval = max(self.poke_interval * 2.0 ** min(pokes - 1, 60), 1.0)
        # Never wait past the timeout: the sensor fails (or skips) when its timeout passes, not a poke later.
        interval = min(interval, max(self.timeout - elapsed, 0.0))
        if self.max_wait is not None:
            interval = min(interval, self.max_wait)
        return interval
