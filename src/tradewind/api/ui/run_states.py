"""The states of one run's tasks as the graph and grid show them: mapped tasks and groups summed up."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.store.tables import TaskInstanceModel

#: When several task instances share one node (a mapped task, a collapsed group), the first state of this
#: list that any of them is in colours the node.
STATE_PRIORITY: tuple[str, ...] = (
    "failed",
    "upstream_failed",
    "up_for_retry",
    "running",
    "up_for_reschedule",
    "deferred",
    "queued",
    "scheduled",
    "none",
    "removed",
    "skipped",
    "success",
)
STATES: tuple[str, ...] = tuple(sorted(STATE_PRIORITY))


def summarise(states: Iterable[str]) -> str:
    present = set(states)
    for state in STATE_PRIORITY:
        if state in present:
            return state
    return "none"


def task_states(*, session: Session, dag_id: str, run_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """run_id -> task_id -> state label (``"none"`` for no state), mapped instances summed up."""
    run_ids = list(run_ids)
    if not run_ids:
        return {}
    rows = session.execute(
        select(TaskInstanceModel.run_id, TaskInstanceModel.task_id, TaskInstanceModel.state).where(
            TaskInstanceModel.dag_id == dag_id, TaskInstanceModel.run_id.in_(run_ids)
        )
    )
    collected: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for run_id, task_id, state in rows:
        collected[run_id][task_id].append(state or "none")
    return {run: {task: summarise(s) for task, s in tasks.items()} for run, tasks in collected.items()}


def mapped_counts(*, session: Session, dag_id: str, run_id: str) -> dict[str, dict[str, int]]:
    """task_id -> state -> count, for tasks expanded into more than one instance."""
    rows = session.execute(
        select(TaskInstanceModel.task_id, TaskInstanceModel.state).where(
            TaskInstanceModel.dag_id == dag_id,
            TaskInstanceModel.run_id == run_id,
            TaskInstanceModel.map_index >= 0,
        )
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for task_id, state in rows:
        counts[task_id][state or "none"] += 1
    return {task: dict(c) for task, c in counts.items()}


def group_states(task_state: dict[str, str], members: dict[str, list[str]]) -> dict[str, str]:
    return {
        group: summarise(task_state.get(t, "none") for t in tasks)
        for group, tasks in members.items()
        if tasks
    }
