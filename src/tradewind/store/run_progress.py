"""How far each running run's task instances are, counted per task in the database: planning reads every
instance only of the runs that have something to decide (issue 17: a run of 10,000 mapped tries would
otherwise be read row by row on every tick)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Integer, case, func, select, tuple_
from sqlalchemy.orm import Session

from tradewind.core.states import FINISHED_TI_STATES, TaskInstanceState
from tradewind.store.tables import DagRunModel, TaskInstanceModel
from tradewind.store.task_instances import state_filter

#: The states planning acts on: no state yet (decided by the trigger rule, or a mapped placeholder), and the
#: waits it ends (a retry or a reschedule that is due).
PLANNED_STATES: frozenset[TaskInstanceState | None] = frozenset(
    {None, TaskInstanceState.UP_FOR_RETRY, TaskInstanceState.UP_FOR_RESCHEDULE}
)


@dataclass
class RunProgress:
    """One run's instances: the tasks that have any, how many planning acts on, how many are not finished."""

    task_ids: set[str] = field(default_factory=set)
    to_plan: int = 0
    unfinished: int = 0


def run_progress(*, session: Session, runs: Sequence[DagRunModel]) -> dict[tuple[str, str], RunProgress]:
    """(dag_id, run_id) -> its progress, for ``runs``; a run without instances is absent. One grouped query:
    one row per task of each run, whatever its number of map indexes."""
    if not runs:
        return {}
    ti = TaskInstanceModel
    to_plan = func.sum(case((state_filter(PLANNED_STATES), 1), else_=0), type_=Integer)
    # No finished state is None, and ``state IN (...)`` is NULL on a NULL state: no state counts as unfinished.
    unfinished = func.sum(case((state_filter(FINISHED_TI_STATES), 0), else_=1), type_=Integer)
    stmt = (
        select(ti.dag_id, ti.run_id, ti.task_id, to_plan, unfinished)
        .where(tuple_(ti.dag_id, ti.run_id).in_([(r.dag_id, r.run_id) for r in runs]))
        .group_by(ti.dag_id, ti.run_id, ti.task_id)
    )
    progress: dict[tuple[str, str], RunProgress] = {}
    for dag_id, run_id, task_id, plan_count, unfinished_count in session.execute(stmt):
        entry = progress.setdefault((dag_id, run_id), RunProgress())
        entry.task_ids.add(task_id)
        entry.to_plan += int(plan_count or 0)
        entry.unfinished += int(unfinished_count or 0)
    return progress
