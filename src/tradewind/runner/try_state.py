"""The runner's record of its try in the metadata database: claim it, heartbeat it, write its outcome.

This is the narrow interface through which the runner reports (with db_runtime for XCom, variables and
skips); an execution API over HTTP can replace it without touching the rest of the runner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState, ti_state_label
from tradewind.sdk.errors import NotFoundError
from tradewind.store import assets, dag_runs, dags, task_history, task_instances, task_reschedules, xcom
from tradewind.store.engine import transaction
from tradewind.store.transient_errors import in_retried_transaction

TI = TaskInstanceState


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What the task context needs from the DAG run."""

    dag_id: str
    run_id: str
    run_type: str
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None
    conf: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedTry:
    """A try this runner moved from queued to running: from now on it is ours to finish."""

    key: TaskInstanceKey
    try_number: int
    max_tries: int
    start_date: datetime
    run: RunInfo
    #: Where the DAG processor found the DAG file (absolute, and relative to its DAG folder).
    fileloc: str
    relative_fileloc: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why this runner must not run the try (someone else has it, or it was cleared or re-queued)."""

    reason: str


class TryState:
    """Claims, heartbeats and finishes one try; every method is one short transaction."""

    def __init__(self, factory: sessionmaker[Session], key: TaskInstanceKey, try_number: int) -> None:
        self.factory = factory
        self.key = key
        self.try_number = try_number

    def claim(self, *, now: datetime, hostname: str, pid: int) -> ClaimedTry | Refusal:
        """Compare-and-set queued -> running on (key, try_number), drop the XComs of earlier tries, and
        read what the run needs; all in one transaction."""
        return in_retried_transaction(
            self.factory, lambda session: self._claim(session, now=now, hostname=hostname, pid=pid)
        )

    def _claim(self, session: Session, *, now: datetime, hostname: str, pid: int) -> ClaimedTry | Refusal:
        moved = task_instances.transition(
            session=session,
            key=self.key,
            expected=TI.QUEUED,
            target=TI.RUNNING,
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
        ti = task_instances.get_task_instance(session=session, key=self.key)
        if not moved:
            return Refusal(_refusal_reason(ti.state, ti.try_number, self.try_number, ti.hostname, ti.pid))
        # What an earlier try pushed must not be read as this try's output.
        xcom.delete_xcoms(
            session=session,
            dag_id=self.key.dag_id,
            run_id=self.key.run_id,
            task_ids=[self.key.task_id],
            map_index=self.key.map_index,
        )
        run = dag_runs.get_dag_run(session=session, dag_id=self.key.dag_id, run_id=self.key.run_id)
        dag = dags.get_dag(session=session, dag_id=self.key.dag_id)
        return ClaimedTry(
            key=self.key,
            try_number=self.try_number,
            max_tries=ti.max_tries,
            start_date=now,
            run=RunInfo(
                dag_id=run.dag_id,
                run_id=run.run_id,
                run_type=run.run_type,
                logical_date=run.logical_date,
                data_interval_start=run.data_interval_start,
                data_interval_end=run.data_interval_end,
                start_date=run.start_date,
                conf=dict(run.conf or {}),
            ),
            fileloc=dag.fileloc,
            relative_fileloc=dag.relative_fileloc,
        )

    def stored_task(self) -> SerializedTask | None:
        """The task as the DAG processor last stored it (for a try whose DAG file failed to import)."""
        with transaction(self.factory) as session:
            try:
                sdag = dags.get_serialized_dag(session=session, dag_id=self.key.dag_id)
            except NotFoundError:
                return None
            return sdag.task_dict.get(self.key.task_id)

    def heartbeat(self, *, now: datetime) -> str | None:
        """None while the try is still ours; otherwise the state label someone else gave it."""
        return in_retried_transaction(self.factory, lambda session: self._heartbeat(session, now=now))

    def _heartbeat(self, session: Session, *, now: datetime) -> str | None:
        if task_instances.heartbeat(session=session, key=self.key, try_number=self.try_number, now=now):
            return None
        ti = task_instances.get_task_instance(session=session, key=self.key)
        label = ti_state_label(TI(ti.state) if ti.state else None)
        return label if ti.try_number == self.try_number else f"{label} (now at try {ti.try_number})"

    def finish(
        self,
        target: TaskInstanceState,
        *,
        values: dict[str, Any],
        asset_events: Sequence[Mapping[str, Any]] = (),
    ) -> str | None:
        """Compare-and-set running -> ``target`` and archive the try; None on success, otherwise the
        state someone else set meanwhile (which is then left alone). ``asset_events`` (data, as
        ``tradewind.sdk.asset_events.produced_events`` makes them) are recorded with a success, in the
        same transaction."""
        return in_retried_transaction(
            self.factory,
            lambda session: self._finish(session, target, values=values, asset_events=asset_events),
        )

    def _finish(
        self,
        session: Session,
        target: TaskInstanceState,
        *,
        values: dict[str, Any],
        asset_events: Sequence[Mapping[str, Any]] = (),
    ) -> str | None:
        moved = task_instances.transition(
            session=session,
            key=self.key,
            expected=TI.RUNNING,
            target=target,
            try_number=self.try_number,
            values=values,
        )
        ti = task_instances.get_task_instance(session=session, key=self.key)
        if not moved:
            return ti_state_label(TI(ti.state) if ti.state else None)
        task_history.archive_try(session=session, ti=ti)
        if target is TI.SUCCESS and asset_events:
            source = assets.EventSource(self.key.dag_id, self.key.task_id, self.key.run_id, self.key.map_index)
            assets.record_events(
                session=session, events=asset_events, source=source, now=values.get("end_date") or utcnow()
            )
        return None


    def reschedule(
        self, *, start_date: datetime, now: datetime, reschedule_date: datetime,
        rendered_fields: dict[str, Any] | None,
    ) -> str | None:  # fmt: skip
        """Compare-and-set running -> up_for_reschedule (the try is not over: no history row, the try
        number stays) and record the reschedule; None on success, else the state someone else set."""
        return in_retried_transaction(
            self.factory,
            lambda session: self._reschedule(
                session, start_date=start_date, now=now, reschedule_date=reschedule_date,
                rendered_fields=rendered_fields,
            ),
        )  # fmt: skip

    def _reschedule(
        self, session: Session, *, start_date: datetime, now: datetime, reschedule_date: datetime,
        rendered_fields: dict[str, Any] | None,
    ) -> str | None:  # fmt: skip
        moved = task_instances.transition(
            session=session,
            key=self.key,
            expected=TI.RUNNING,
            target=TI.UP_FOR_RESCHEDULE,
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
            return ti_state_label(TI(ti.state) if ti.state else None)
        task_reschedules.record_reschedule(
            session=session, key=self.key, try_number=self.try_number, start_date=start_date, end_date=now,
            reschedule_date=reschedule_date,
        )  # fmt: skip
        return None


def current_try_number(factory: sessionmaker[Session], key: TaskInstanceKey) -> int:
    """The try a runner started without --try-number should claim: the one the row is at."""
    with transaction(factory) as session:
        return task_instances.get_task_instance(session=session, key=key).try_number


def _refusal_reason(
    state: str | None, row_try: int, our_try: int, hostname: str | None, pid: int | None
) -> str:
    label = ti_state_label(TI(state) if state else None)
    if row_try != our_try:
        return (
            f"the task instance is at try {row_try} ({label}), not try {our_try}: it was cleared or re-queued"
        )
    if state == TI.RUNNING:
        return f"try {our_try} is already running on {hostname or '?'} (pid {pid or '?'})"
    if state is None:
        return f"try {our_try} was cleared (state none)"
    return f"try {our_try} is {label}, not queued"
