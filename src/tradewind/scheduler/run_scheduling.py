"""Turn schedules into DAG runs, and start queued runs within max_active_runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunState, DagRunType
from tradewind.sdk.errors import ConflictError, TradewindError
from tradewind.sdk.schedules import DagRunInfo, DataInterval, next_dagrun, timetable_from_dict
from tradewind.store import dag_runs, dags, scheduling
from tradewind.store.new_runs import create_run
from tradewind.store.scheduling import ALL_RUNS, RunScope
from tradewind.store.serialized_dag_cache import SerializedDagCache
from tradewind.store.tables import DagModel, DagRunModel

log = logging.getLogger(__name__)


def next_run_info(*, session: Session, sdag: SerializedDag, now: datetime) -> DagRunInfo | None:
    """The next scheduled run of a DAG after its last scheduled or backfill run."""
    timetable = timetable_from_dict(sdag.timetable)
    last = scheduling.last_automated_run(session=session, dag_id=sdag.dag_id)
    last_interval = None
    if last is not None:
        start = last.data_interval_start or last.logical_date
        end = last.data_interval_end or last.logical_date
        last_interval = DataInterval(start, end)
    return next_dagrun(
        timetable,
        last_interval=last_interval,
        start_date=sdag.start_date,
        end_date=sdag.end_date,
        catchup=sdag.catchup,
        now=now,
    )


def create_scheduled_runs(*, session: Session, cache: SerializedDagCache, now: datetime) -> int:
    """Create the runs that are due. Returns how many were created."""
    created = 0
    due = scheduling.dags_due(session=session, now=now)
    if not due:
        return 0
    running = scheduling.active_run_counts(
        session=session, dag_ids=[d.dag_id for d in due], include_queued=True
    )
    for dag in due:
        # Manual-only DAGs have no due runs; asset runs are scheduler/asset_runs.py's.
        if dag.timetable.get("type") in scheduling.UNSCHEDULED_TIMETABLES:
            continue
        sdag = cache.find(session, dag.dag_id)
        if sdag is None:
            continue
        try:
            created += _create_due_run(
                session=session,
                dag=dag,
                sdag=sdag,
                now=now,
                active=running.get(dag.dag_id, 0),
            )
        except TradewindError as exc:
            log.error("could not create the next run of DAG %s: %s", dag.dag_id, exc)
    return created


def _create_due_run(
    *, session: Session, dag: DagModel, sdag: SerializedDag, now: datetime, active: int
) -> int:
    if dag.next_dagrun_create_after is None or not sdag.catchup:
        # Without catchup the stored next run may be stale (the DAG was paused for a while): recompute.
        info = next_run_info(session=session, sdag=sdag, now=now)
        dags.set_next_dagrun(session=session, dag_id=dag.dag_id, info=info)
        if info is None or info.run_after > now or dag.is_paused:
            return 0
    else:
        assert dag.next_dagrun is not None
        info = DagRunInfo(
            dag.next_dagrun_create_after,
            DataInterval(
                dag.next_dagrun_data_interval_start or dag.next_dagrun,
                dag.next_dagrun_data_interval_end or dag.next_dagrun,
            ),
        )
    if active >= sdag.max_active_runs:
        return 0
    try:
        with session.begin_nested():
            create_run(
                session=session,
                sdag=sdag,
                run_type=DagRunType.SCHEDULED,
                logical_date=info.logical_date,
                data_interval=info.data_interval,
                now=now,
                triggered_by="scheduler",
            )
    except ConflictError:
        log.info("run for %s at %s exists already", sdag.dag_id, info.logical_date.isoformat())
    following = next_dagrun(
        timetable_from_dict(sdag.timetable),
        last_interval=info.data_interval,
        start_date=sdag.start_date,
        end_date=sdag.end_date,
        catchup=sdag.catchup,
        now=now,
    )
    dags.set_next_dagrun(session=session, dag_id=dag.dag_id, info=following)
    return 1


@dataclass(frozen=True, slots=True)
class RunStarts:
    """What ``start_queued_runs`` did: the runs it started, and whether queued runs may be left that it did
    not look at (it reads one page of them), for a tick to go round at once."""

    started: list[DagRunModel]
    more_queued: bool


def start_queued_runs(
    *, session: Session, cache: SerializedDagCache, now: datetime, scope: RunScope = ALL_RUNS
) -> RunStarts:
    """Move queued runs to running while their DAG is under max_active_runs."""
    queued = scheduling.queued_runs(session=session, scope=scope, limit=scheduling.QUEUED_RUNS_PAGE)
    if not queued:
        return RunStarts([], more_queued=False)
    running = scheduling.active_run_counts(session=session, dag_ids={r.dag_id for r in queued})
    started = []
    for run in queued:
        sdag = cache.find(session, run.dag_id)
        limit = sdag.max_active_runs if sdag is not None else 16
        if running.get(run.dag_id, 0) >= limit:
            continue
        if dag_runs.set_dag_run_state(
            session=session,
            dag_id=run.dag_id,
            run_id=run.run_id,
            expected=DagRunState.QUEUED,
            target=DagRunState.RUNNING,
            now=now,
        ):
            running[run.dag_id] = running.get(run.dag_id, 0) + 1
            started.append(run)
    return RunStarts(started, more_queued=len(queued) >= scheduling.QUEUED_RUNS_PAGE)
