"""How far another DAG's tasks, task group or runs are: the counts ExternalTaskSensor pokes with and
WorkflowTrigger waits on, read through the task runtime (the execution API, or the triggerer)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from tradewind.sdk.runtime import get_runtime


def group_tasks(tasks: Mapping[str, str | None], group: str | None) -> list[str]:
    """The tasks of task group ``group`` (and of the groups inside it), from ``dag_task_ids``' answer."""
    return [t for t, g in tasks.items() if g is not None and (g == group or g.startswith(f"{group}."))]


def count_in_states(
    *,
    dag_id: str,
    dates: Sequence[datetime],
    states: Collection[str],
    task_ids: Sequence[str] | None,
    group_id: str | None,
) -> float:
    """How many of ``dates`` have the tasks ``task_ids`` (all of them), the task group ``group_id`` or, with
    neither, the run of ``dag_id`` in ``states``. What ExternalTaskSensor and WorkflowTrigger count."""
    runtime = get_runtime()
    wanted = {str(s) for s in states}
    if task_ids is not None:
        found = runtime.task_instance_states(dag_id=dag_id, logical_dates=dates, task_ids=task_ids)
        return sum(s in wanted for s in found) / len(task_ids)
    if group_id is not None:
        group = group_tasks(runtime.dag_task_ids(dag_id=dag_id) or {}, group_id)
        count = 0
        for date in dates:
            found = runtime.task_instance_states(dag_id=dag_id, logical_dates=[date], task_ids=group)
            count += bool(found) and all(s in wanted for s in found)
        return count
    return sum(s in wanted for s in runtime.dag_run_states(dag_id=dag_id, logical_dates=dates))
