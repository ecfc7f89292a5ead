"""The ``ExecuteTask`` that carries one try of a task instance to an executor, built in one place for
dispatch (a new try) and for adoption after a scheduler restart (the try the row is at)."""

from __future__ import annotations

from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.workload import ExecuteTask
from tradewind.store.scheduling import DispatchCandidate
from tradewind.store.tables import TaskInstanceModel


def workload_for(
    ti: TaskInstanceModel | DispatchCandidate, sdag: SerializedDag | None, *, try_number: int
) -> ExecuteTask:
    """The workload of try ``try_number`` of ``ti``; without the DAG (or the task) in it, the DAG file path
    is empty and the executor config is the default."""
    task = sdag.task_dict.get(ti.task_id) if sdag is not None else None
    return ExecuteTask(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=ti.map_index,
        try_number=try_number,
        queue=ti.queue,
        pool=ti.pool,
        priority_weight=ti.priority_weight,
        dag_rel_path=sdag.relative_fileloc if sdag is not None else "",
        executor_config=task.executor_config if task is not None else {},
    )
