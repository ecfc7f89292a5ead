"""The live state feed: what a page shows of DAGs, runs and task instances, answered for a list of keys.

A page names what it shows as keys (JSON arrays, kept as the exact strings the page sent):

- ``["dag", dag_id]``: the DAG's five latest runs (the DAG list's dots and its last run);
- ``["runs", dag_id]``: its 25 latest runs with their times (run picker, runs list);
- ``["grid", dag_id]``: the states of every task in those runs (the grid);
- ``["run", dag_id, run_id]``: one run's state and times (badges, flashes);
- ``["tasks", dag_id, run_id]``: every task of one run: state, try, times, mapped counts (graph, Gantt);
- ``["ti", dag_id, run_id, task_id, map_index]``: one task instance and its tries (the task page).

The answer is ``{"items": {key: value}, "active": bool}``; ``active`` is false once nothing a key names is
queued or running, and the page then stops asking.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.api.ui.dag_list import recent_runs
from tradewind.api.ui.run_states import group_states, summarise, task_states
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import FINISHED_DAG_RUN_STATES, FINISHED_TI_STATES
from tradewind.sdk.errors import RefusedInputError
from tradewind.store import dag_runs, scheduling, task_history
from tradewind.store.tables import DagRunModel, TaskInstanceModel

MAX_KEYS = 200
RUNS_SHOWN = 25
_FINISHED_RUN = {s.value for s in FINISHED_DAG_RUN_STATES}
_FINISHED_TI = {s.value for s in FINISHED_TI_STATES}


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _text(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def run_active(state: str | None) -> bool:
    return state is not None and state not in _FINISHED_RUN


def run_json(run: DagRunModel) -> dict[str, Any]:
    duration = (run.end_date - run.start_date).total_seconds() if run.start_date and run.end_date else None
    return {
        "run_id": run.run_id,
        "state": run.state,
        "logical_date": iso(run.logical_date),
        "start_date": iso(run.start_date),
        "end_date": iso(run.end_date),
        "duration": duration,
    }


def parse_keys(raw: Sequence[str]) -> list[tuple[str, list[Any]]]:
    """Each raw key with its parsed form; a malformed key is a ValidationError naming it."""
    if len(raw) > MAX_KEYS:
        raise RefusedInputError(
            f"query parameter 'key': at most {MAX_KEYS} keys, got {len(raw)}", field="key"
        )
    parsed = []
    for text in raw:
        try:
            value = json.loads(text)
        except ValueError:
            raise RefusedInputError(
                f"query parameter 'key': {text!r} is not a JSON array", field="key"
            ) from None
        arity = {"dag": 2, "runs": 2, "grid": 2, "run": 3, "tasks": 3, "ti": 5}
        if not (isinstance(value, list) and value and arity.get(value[0]) == len(value)):
            raise RefusedInputError(
                f"query parameter 'key': {text!r} is not one of {sorted(arity)} with its ids", field="key"
            )
        if not all(isinstance(v, str) for v in value[:4]) or (
            value[0] == "ti" and not (isinstance(value[4], int) and -1 <= value[4] < 2**31)
        ):
            raise RefusedInputError(f"query parameter 'key': {text!r} has ids of the wrong type", field="key")
        parsed.append((text, value))
    return parsed


def _dag(session: Session, key: list[Any]) -> tuple[Any, bool]:
    runs = recent_runs(session=session, dag_ids=[key[1]]).get(key[1], [])
    shown = [{"run_id": r.run_id, "state": r.state, "logical_date": _text(r.logical_date)} for r in runs]
    return {"runs": shown, "last_run": shown[0] if shown else None}, any(run_active(r.state) for r in runs)


def _runs(session: Session, key: list[Any]) -> tuple[Any, bool]:
    runs, total = dag_runs.list_dag_runs(session=session, dag_id=key[1], limit=RUNS_SHOWN)
    return {"runs": [run_json(r) for r in runs], "total": total}, any(run_active(r.state) for r in runs)


def _grid(session: Session, key: list[Any]) -> tuple[Any, bool]:
    runs, _total = dag_runs.list_dag_runs(session=session, dag_id=key[1], limit=RUNS_SHOWN)
    states = task_states(session=session, dag_id=key[1], run_ids=[r.run_id for r in runs])
    value = {"runs": [{"run_id": r.run_id, "state": r.state} for r in runs], "tasks": states}
    return value, any(run_active(r.state) for r in runs)


def _run(session: Session, key: list[Any]) -> tuple[Any, bool]:
    run = session.scalars(
        select(DagRunModel).where(DagRunModel.dag_id == key[1], DagRunModel.run_id == key[2])
    ).one_or_none()
    if run is None:
        return None, False
    return run_json(run), run_active(run.state)


def task_details_by_run(
    session: Session, dag_id: str, run_ids: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """run_id -> task_id -> state (mapped instances summed up), try, times, and the per-state counts of
    mapped instances; in one query whatever the number of runs."""
    if not run_ids:
        return {}
    rows = session.execute(
        select(
            TaskInstanceModel.run_id,
            TaskInstanceModel.task_id,
            TaskInstanceModel.map_index,
            TaskInstanceModel.state,
            TaskInstanceModel.try_number,
            TaskInstanceModel.start_date,
            TaskInstanceModel.end_date,
            TaskInstanceModel.duration,
        ).where(TaskInstanceModel.dag_id == dag_id, TaskInstanceModel.run_id.in_(list(run_ids)))
    )
    grouped: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[row.run_id][row.task_id].append(row)
    return {
        run_id: {task_id: _detail(items) for task_id, items in tasks.items()}
        for run_id, tasks in grouped.items()
    }


def _detail(items: list[Any]) -> dict[str, Any]:
    starts = [r.start_date for r in items if r.start_date]
    ends = [r.end_date for r in items if r.end_date]
    durations = [r.duration for r in items if r.duration is not None]
    entry: dict[str, Any] = {
        "state": summarise(r.state or "none" for r in items),
        "try_number": max(r.try_number for r in items),
        "start_date": iso(min(starts)) if starts else None,
        "end_date": iso(max(ends)) if ends and len(ends) == len(items) else None,
        "duration": max(durations) if durations else None,
    }
    mapped = [r for r in items if r.map_index >= 0]
    if mapped:
        counts: dict[str, int] = defaultdict(int)
        for r in mapped:
            counts[r.state or "none"] += 1
        entry["mapped"] = {"total": len(mapped), "states": dict(sorted(counts.items()))}
    return entry


def task_details(session: Session, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """task_id -> details (see ``task_details_by_run``) for one run."""
    return task_details_by_run(session, dag_id, [run_id]).get(run_id, {})


def _tasks(session: Session, key: list[Any], groups: GroupsOf) -> tuple[Any, bool]:
    run = session.scalars(
        select(DagRunModel).where(DagRunModel.dag_id == key[1], DagRunModel.run_id == key[2])
    ).one_or_none()
    if run is None:
        return None, False
    details = task_details(session, key[1], key[2])
    states = group_states({t: d["state"] for t, d in details.items()}, groups(key[1]))
    value = {"run": run_json(run), "tasks": details, "group_states": states}
    return value, run_active(run.state)


def ti_json(session: Session, key: TaskInstanceKey) -> tuple[Any, bool]:
    found = scheduling.get_task_instance_row(session=session, key=key)
    if found is None:
        return None, False
    tries = task_history.list_tries(session=session, key=key)
    state = found.state
    run_state = session.scalar(
        select(DagRunModel.state).where(DagRunModel.dag_id == key.dag_id, DagRunModel.run_id == key.run_id)
    )
    value = {
        "state": state or "none",
        "try_number": found.try_number,
        "start_date": iso(found.start_date),
        "end_date": iso(found.end_date),
        "duration": found.duration,
        "hostname": found.hostname,
        "external_executor_id": found.external_executor_id,
        "state_reason": found.state_reason,
        "tries": [
            {
                "try_number": t.try_number,
                "state": t.state or "none",
                "start_date": iso(t.start_date),
                "end_date": iso(t.end_date),
                "duration": t.duration,
                "state_reason": t.state_reason,
            }
            for t in tries
        ],
    }
    active = (state is not None and state not in _FINISHED_TI) or run_active(run_state)
    return value, active


def _ti(session: Session, key: list[Any]) -> tuple[Any, bool]:
    return ti_json(session, TaskInstanceKey(key[1], key[2], key[3], key[4]))


#: dag_id -> group id -> the task ids inside it (from the serialized DAG).
GroupsOf = Callable[[str], dict[str, list[str]]]
_ANSWERS: dict[str, Callable[[Session, list[Any]], tuple[Any, bool]]] = {
    "dag": _dag,
    "runs": _runs,
    "grid": _grid,
    "run": _run,
    "ti": _ti,
}


def snapshot(session: Session, keys: Sequence[tuple[str, list[Any]]], groups: GroupsOf) -> dict[str, Any]:
    items: dict[str, Any] = {}
    active = False
    for text, key in keys:
        if key[0] == "tasks":
            value, key_active = _tasks(session, key, groups)
        else:
            value, key_active = _ANSWERS[key[0]](session, key)
        items[text] = value
        active = active or key_active
    return {"items": items, "active": active}
