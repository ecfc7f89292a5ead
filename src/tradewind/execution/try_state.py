"""A try's life-cycle in the metadata database: claim it, heartbeat it, end it, reschedule it. The execution
API's routes call this for the try their token names; `dags test` calls it in process. Every method is one
short transaction with compare-and-set, so only one runner ever owns a try."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState, ti_state_label, ti_state_or_none
from tradewind.execution import try_rows
from tradewind.execution.models import (
    ClaimedTry,
    DeferReport,
    Refusal,
    RescheduleReport,
    RunInfo,
    TryEnded,
    TryReport,
)
from tradewind.execution.try_ending import TakenAway, end_reported_try
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.legacy_context import PreviousSuccess
from tradewind.store import dag_runs, dags, scheduling, task_instances, task_reschedules, triggers, xcom
from tradewind.store.engine import transaction
from tradewind.store.transient_errors import REQUEST_WINDOW, in_retried_transaction
from tradewind.store.wakeup import TRIGGERER, ring


class TryState:
    """Claims, heartbeats and finishes one try; every method is one short transaction."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        key: TaskInstanceKey,
        try_number: int,
        *,
        window: float = REQUEST_WINDOW,
    ) -> None:
        """``window``: how long each method retries its transaction through a database outage (a server
        answers 503 after a short one and its caller retries; an in-process runner waits the full outage)."""
        self.factory = factory
        self.key = key
        self.try_number = try_number
        self.window = window

    def claim(self, *, now: datetime, hostname: str, pid: int) -> ClaimedTry | Refusal:
        """Compare-and-set queued -> running on (key, try_number), drop the XComs of earlier tries, and
        read what the run needs; all in one transaction."""
        return in_retried_transaction(
            self.factory,
            lambda session: self._claim(session, now=now, hostname=hostname, pid=pid),
            window=self.window,
        )

    def _claim(self, session: Session, *, now: datetime, hostname: str, pid: int) -> ClaimedTry | Refusal:
        # Three prebuilt statements, no ORM objects (this runs once per try): the compare-and-set returning the
        # row's fields, the XCom clean-up, and the run with its DAG's file.
        row = task_instances.claim_queued(
            session=session,
            key=self.key,
            try_number=self.try_number,
            values={
                "start_date": now,
                "end_date": None,
                "duration": None,
                "hostname": hostname,
                "pid": pid,
                "last_heartbeat_at": now,
                "next_retry_at": None,
                "state_reason": None,
            },
        )
        if row is None:
            ti = task_instances.get_task_instance(session=session, key=self.key)
            if not _claimed_by(ti, self.try_number, hostname, pid):
                return Refusal(
                    reason=_refusal_reason(ti.state, ti.try_number, self.try_number, ti.hostname, ti.pid)
                )
            # The same runner asking again, its first answer lost with a restarting server: its claim stands.
            now = ti.start_date or now
            row = task_instances.ClaimedRow(ti.max_tries, ti.next_method, ti.next_kwargs)
        if row.next_method is None:
            # What an earlier try pushed must not be read as this try's output (a resumed try keeps its own).
            try_rows.delete_try_xcoms(session, self.key)
        run = dag_runs.run_of_try(session=session, dag_id=self.key.dag_id, run_id=self.key.run_id)
        return ClaimedTry(
            dag_id=self.key.dag_id,
            task_id=self.key.task_id,
            run_id=self.key.run_id,
            map_index=self.key.map_index,
            try_number=self.try_number,
            max_tries=row.max_tries,
            start_date=now,
            run=RunInfo(
                dag_id=self.key.dag_id,
                run_id=self.key.run_id,
                run_type=run.run_type,
                logical_date=run.logical_date,
                data_interval_start=run.data_interval_start,
                data_interval_end=run.data_interval_end,
                start_date=run.start_date,
                conf=run.conf,
            ),
            fileloc=run.fileloc,
            relative_fileloc=run.relative_fileloc,
            next_method=row.next_method,
            next_kwargs=row.next_kwargs,
        )

    def stored_task(self) -> SerializedTask | None:
        """The task as the DAG processor last stored it: its retry settings decide a failed try's end."""
        with transaction(self.factory) as session:
            return self._stored_task(session)

    def _stored_task(self, session: Session) -> SerializedTask | None:
        try:
            sdag = dags.get_serialized_dag(session=session, dag_id=self.key.dag_id)
        except NotFoundError:
            return None
        return sdag.task_dict.get(self.key.task_id)

    def previous_success(self, *, logical_date: datetime) -> PreviousSuccess | None:
        """The last successful run of the DAG before ``logical_date`` and this task's start in it (Airflow 2's
        ``prev_execution_date_success`` / ``prev_start_date_success``)."""
        with transaction(self.factory) as session:
            run = dag_runs.previous_successful_run(
                session=session, dag_id=self.key.dag_id, before=logical_date
            )
            if run is None:
                return None
            ti = scheduling.get_task_instance_row(
                session=session,
                key=TaskInstanceKey(self.key.dag_id, run.run_id, self.key.task_id, self.key.map_index),
            )
            start = ti.start_date if ti is not None else None
            return PreviousSuccess(_utc(run.logical_date), _utc(start) if start is not None else None)

    def heartbeat(self, *, now: datetime) -> str | None:
        """None while the try is still ours; otherwise the state label someone else gave it."""
        return in_retried_transaction(
            self.factory, lambda session: self._heartbeat(session, now=now), window=self.window
        )

    def _heartbeat(self, session: Session, *, now: datetime) -> str | None:
        if task_instances.heartbeat(session=session, key=self.key, try_number=self.try_number, now=now):
            return None
        ti = task_instances.get_task_instance(session=session, key=self.key)
        label = ti_state_label(ti_state_or_none(ti.state))
        return label if ti.try_number == self.try_number else f"{label} (now at try {ti.try_number})"

    def finish(self, report: TryReport, *, now: datetime) -> TryEnded | TakenAway:
        """End the running try as ``report`` says it went (``execution.try_ending`` decides retry or
        failure). A try someone else moved meanwhile is left alone: TakenAway names its state."""
        return in_retried_transaction(
            self.factory, lambda session: self._finish(session, report, now=now), window=self.window
        )

    def _finish(self, session: Session, report: TryReport, *, now: datetime) -> TryEnded | TakenAway:
        end = end_reported_try(
            session=session,
            key=self.key,
            try_number=self.try_number,
            outcome=report.outcome,
            task=lambda: self._stored_task(session),
            now=now,
            reason=report.reason,
            decision=report.decision(),
            rendered_fields=report.rendered_fields or None,
            asset_events=report.asset_events,
        )
        if isinstance(end, TakenAway):
            return end
        for returned in report.xcoms:
            xcom.set_xcom(
                session=session,
                dag_id=self.key.dag_id,
                run_id=self.key.run_id,
                task_id=self.key.task_id,
                map_index=self.key.map_index,
                key=returned.key,
                value=returned.value,
                now=now,
            )
        ring(session)  # the scheduler plans the downstream tasks (and a retry) at once
        return TryEnded(state=end.state.value, next_retry_at=end.next_retry_at, state_reason=end.reason)

    def reschedule(self, report: RescheduleReport, *, now: datetime) -> str | None:
        """Compare-and-set running -> up_for_reschedule (the try is not over: no history row, the try
        number stays) and record the reschedule; None on success, else the state someone else set."""
        return in_retried_transaction(
            self.factory,
            lambda session: self._reschedule(
                session,
                now=now,
                reschedule_date=report.reschedule_date,
                rendered_fields=report.rendered_fields,
            ),
            window=self.window,
        )

    def _reschedule(
        self,
        session: Session,
        *,
        now: datetime,
        reschedule_date: datetime,
        rendered_fields: dict[str, Any] | None,
    ) -> str | None:
        ti = task_instances.get_task_instance(session=session, key=self.key)
        start_date = ti.start_date or now
        moved = task_instances.transition(
            session=session,
            key=self.key,
            expected=TaskInstanceState.RUNNING,
            target=TaskInstanceState.UP_FOR_RESCHEDULE,
            try_number=self.try_number,
            values={
                "end_date": now,
                "duration": (now - start_date).total_seconds(),
                "next_poke_at": reschedule_date,
                "rendered_fields": rendered_fields,
                "state_reason": None,
            },
        )
        if not moved:
            ti = task_instances.get_task_instance(session=session, key=self.key)
            return ti_state_label(ti_state_or_none(ti.state))
        task_reschedules.record_reschedule(
            session=session, key=self.key, try_number=self.try_number, start_date=start_date, end_date=now,
            reschedule_date=reschedule_date,
        )  # fmt: skip
        ring(session)  # a sleeping scheduler learns the next poke's moment
        return None

    def defer(self, report: DeferReport, *, now: datetime) -> str | None:
        """Store the trigger and move running -> deferred (same try, slot freed, no history row) in one
        transaction; None on success, else the state someone else set (then nothing is stored)."""
        return in_retried_transaction(
            self.factory, lambda session: self._defer(session, report, now=now), window=self.window
        )

    def _defer(self, session: Session, report: DeferReport, *, now: datetime) -> str | None:
        ti = task_instances.get_task_instance(session=session, key=self.key)
        if ti.state != TaskInstanceState.RUNNING or ti.try_number != self.try_number:
            return _label(ti, self.try_number)
        trigger_id = triggers.create_trigger(
            session=session, classpath=report.classpath, kwargs=report.kwargs, now=now
        )
        timeout = None if report.timeout_seconds is None else now + timedelta(seconds=report.timeout_seconds)
        start_date = ti.start_date or now
        moved = task_instances.transition(
            session=session,
            key=self.key,
            expected=TaskInstanceState.RUNNING,
            target=TaskInstanceState.DEFERRED,
            try_number=self.try_number,
            values={
                "trigger_id": trigger_id,
                "trigger_timeout": timeout,
                "next_method": report.next_method,
                "next_kwargs": report.next_kwargs,
                "end_date": now,
                "duration": (now - start_date).total_seconds(),
                "rendered_fields": report.rendered_fields,
                "state_reason": None,
            },
        )
        if not moved:  # moved between the read and the update: the trigger is nobody's
            triggers.delete_trigger(session=session, trigger_id=trigger_id)
            ti = task_instances.get_task_instance(session=session, key=self.key)
            return _label(ti, self.try_number)
        ring(session, TRIGGERER)  # a triggerer claims the new trigger at once
        return None


def _label(ti: Any, try_number: int) -> str:
    label = ti_state_label(ti_state_or_none(ti.state))
    return label if ti.try_number == try_number else f"{label} (now at try {ti.try_number})"


def current_try_number(factory: sessionmaker[Session], key: TaskInstanceKey) -> int:
    """The try a runner started without --try-number should claim: the one the row is at."""
    with transaction(factory) as session:
        return task_instances.get_task_instance(session=session, key=key).try_number


def _claimed_by(ti: Any, try_number: int, hostname: str, pid: int) -> bool:
    """The try is running at ``try_number`` on this very host and process."""
    return bool(
        ti.state == TaskInstanceState.RUNNING
        and ti.try_number == try_number
        and ti.hostname == hostname
        and ti.pid == pid
    )


def _refusal_reason(
    state: str | None, row_try: int, our_try: int, hostname: str | None, pid: int | None
) -> str:
    label = ti_state_label(ti_state_or_none(state))
    if row_try != our_try:
        return (
            f"the task instance is at try {row_try} ({label}), not try {our_try}: it was cleared or re-queued"
        )
    if state == TaskInstanceState.RUNNING:
        return f"try {our_try} is already running on {hostname or '?'} (pid {pid or '?'})"
    if state is None:
        return f"try {our_try} was cleared (state none)"
    return f"try {our_try} is {label}, not queued"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
