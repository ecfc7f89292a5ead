"""The last successful run before a try's run, read only when the task asks for an Airflow 2 name that needs
it (``prev_execution_date_success``, ``prev_start_date_success``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.keys import TaskInstanceKey
from tradewind.sdk.legacy_context import PreviousSuccess
from tradewind.store import dag_runs, scheduling


def previous_success_lookup(
    factory: sessionmaker[Session], key: TaskInstanceKey, logical_date: datetime
) -> Callable[[], PreviousSuccess | None]:
    def lookup() -> PreviousSuccess | None:
        with factory() as session:
            run = dag_runs.previous_successful_run(session=session, dag_id=key.dag_id, before=logical_date)
            if run is None:
                return None
            ti = scheduling.get_task_instance_row(
                session=session,
                key=TaskInstanceKey(key.dag_id, run.run_id, key.task_id, key.map_index),
            )
            start = ti.start_date if ti is not None else None
            return PreviousSuccess(_utc(run.logical_date), _utc(start) if start is not None else None)

    return lookup


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
