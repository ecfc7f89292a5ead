"""The JSON the UI's charts are drawn from: a run's Gantt, run and task durations, the calendar of daily run
states, and landing times. Each is a fixed number of queries, whatever the number of tasks or runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.api.ui.live_state import iso, run_active, task_details_by_run
from tradewind.api.ui.run_states import summarise
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunType
from tradewind.store import dag_runs
from tradewind.store.tables import DagRunModel, TaskInstanceHistoryModel, TaskInstanceModel

CALENDAR_DAYS = 365


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start).total_seconds())


def gantt(session: Session, sdag: SerializedDag, run_id: str, now: datetime) -> dict[str, Any]:
    """One row per task instance (mapped ones each on their own row), in the DAG's task order: the time it
    waited queued for its current try, and each try as its own bar with its state."""
    run = dag_runs.get_dag_run(session=session, dag_id=sdag.dag_id, run_id=run_id)
    where_ti = (TaskInstanceModel.dag_id == sdag.dag_id, TaskInstanceModel.run_id == run_id)
    current = session.scalars(select(TaskInstanceModel).where(*where_ti)).all()
    history = session.scalars(
        select(TaskInstanceHistoryModel).where(
            TaskInstanceHistoryModel.dag_id == sdag.dag_id, TaskInstanceHistoryModel.run_id == run_id
        )
    ).all()
    earlier: dict[tuple[str, int], list[TaskInstanceHistoryModel]] = defaultdict(list)
    for h in history:
        earlier[(h.task_id, h.map_index)].append(h)
    order = {t.task_id: i for i, t in enumerate(sdag.tasks)}
    labels = {t.task_id: t.display_name for t in sdag.tasks}
    rows = []
    for ti in sorted(current, key=lambda t: (order.get(t.task_id, len(order)), t.task_id, t.map_index)):
        archived = sorted(earlier.get((ti.task_id, ti.map_index), []), key=lambda h: h.try_number)
        tries = [_try(h.try_number, h.state, h.start_date, h.end_date, now) for h in archived]
        if ti.try_number > 0 and ti.try_number not in {h.try_number for h in archived} and ti.start_date:
            tries.append(_try(ti.try_number, ti.state, ti.start_date, ti.end_date, now))
        queued = None
        if ti.queued_at is not None:
            queued = {"start": iso(ti.queued_at), "end": iso(ti.start_date or now)}
        rows.append(
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "label": labels.get(ti.task_id, ti.task_id)
                + (f" [{ti.map_index}]" if ti.map_index >= 0 else ""),
                "state": ti.state or "none",
                "queued": queued,
                "tries": tries,
            }
        )
    return {
        "dag_id": sdag.dag_id,
        "run": {
            "run_id": run.run_id,
            "state": run.state,
            "queued_at": iso(run.queued_at),
            "start_date": iso(run.start_date),
            "end_date": iso(run.end_date),
        },
        # Only while the run goes on: a finished run's Gantt stays the same bytes (and ETag).
        "now": iso(now) if run_active(run.state) else None,
        "rows": rows,
    }


def _try(number: int, state: str | None, start: datetime | None, end: datetime | None, now: datetime) -> Any:
    return {
        "try_number": number,
        "state": state or "none",
        "start": iso(start),
        "end": iso(end or now) if start else None,
        "ongoing": end is None,
        "duration": seconds(start, end or now),
    }


def _latest_runs(session: Session, dag_id: str, limit: int) -> list[DagRunModel]:
    runs, _total = dag_runs.list_dag_runs(session=session, dag_id=dag_id, limit=limit)
    return list(reversed(runs))  # oldest first, as a time axis reads


def run_durations(session: Session, dag_id: str, limit: int, now: datetime) -> dict[str, Any]:
    """The last ``limit`` runs, oldest first: how long each waited queued and how long it ran."""
    runs = _latest_runs(session, dag_id, limit)
    return {
        "dag_id": dag_id,
        "runs": [
            {
                "run_id": r.run_id,
                "state": r.state,
                "logical_date": iso(r.logical_date),
                "queued_seconds": seconds(r.queued_at, r.start_date or (now if r.queued_at else None)),
                "run_seconds": seconds(r.start_date, r.end_date or (now if r.start_date else None)),
                "ongoing": run_active(r.state),
            }
            for r in runs
        ],
    }


def task_durations(session: Session, sdag: SerializedDag, limit: int) -> dict[str, Any]:
    """For the last ``limit`` runs, oldest first, each task's duration (its longest mapped instance)."""
    runs = _latest_runs(session, sdag.dag_id, limit)
    details = task_details_by_run(session, sdag.dag_id, [r.run_id for r in runs])
    tasks = {
        t.task_id: [details.get(r.run_id, {}).get(t.task_id, {}).get("duration") for r in runs]
        for t in sdag.tasks
    }
    return {
        "dag_id": sdag.dag_id,
        "runs": [{"run_id": r.run_id, "logical_date": iso(r.logical_date), "state": r.state} for r in runs],
        "tasks": {task: values for task, values in tasks.items() if any(v is not None for v in values)},
    }


def calendar(session: Session, dag_id: str, now: datetime, days: int = CALENDAR_DAYS) -> dict[str, Any]:
    """Per day (of the logical date, UTC) in the last ``days``: how many runs ended in each state, and the
    state that colours the day (failed before running before success, as nodes are coloured)."""
    since = now - timedelta(days=days)
    rows = session.execute(
        select(DagRunModel.logical_date, DagRunModel.state).where(
            DagRunModel.dag_id == dag_id, DagRunModel.logical_date >= since
        )
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for logical_date, state in rows:
        counts[logical_date.date().isoformat()][state] += 1
    return {
        "dag_id": dag_id,
        "start": since.date().isoformat(),
        "end": now.date().isoformat(),
        "days": [
            {"date": day, "states": dict(sorted(states.items())), "state": summarise(states)}
            for day, states in sorted(counts.items())
        ],
    }


def landing_times(session: Session, dag_id: str, limit: int) -> dict[str, Any]:
    """For the last ``limit`` scheduled runs: how long after its data interval ended each run finished."""
    runs, _total = dag_runs.list_dag_runs(
        session=session, dag_id=dag_id, run_type=DagRunType.SCHEDULED, limit=limit
    )
    shown = []
    for r in reversed(runs):
        shown.append(
            {
                "run_id": r.run_id,
                "state": r.state,
                "logical_date": iso(r.logical_date),
                "data_interval_end": iso(r.data_interval_end),
                "end_date": iso(r.end_date),
                "landing_seconds": seconds(r.data_interval_end, r.end_date),
            }
        )
    return {"dag_id": dag_id, "runs": shown}
