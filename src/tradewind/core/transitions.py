"""The allowed state transitions of task instances and DAG runs, as explicit tables.

Every state change goes through ``check_*`` here and then a conditional UPDATE (compare-and-set) in the
store, so two schedulers, or a scheduler and a runner, can never both move the same row.
"""

from __future__ import annotations

from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.sdk.errors import InvalidTransitionError

#: from-state -> states the system (scheduler, executor, runner) may move it to.
TI_TRANSITIONS: dict[TaskInstanceState | None, frozenset[TaskInstanceState | None]] = {
    None: frozenset(
        {
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.UPSTREAM_FAILED,
            TaskInstanceState.REMOVED,
        }
    ),
    # scheduled -> success: an EmptyOperator is done without starting a process.
    TaskInstanceState.SCHEDULED: frozenset(
        {
            TaskInstanceState.QUEUED,
            TaskInstanceState.SUCCESS,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.UPSTREAM_FAILED,
            TaskInstanceState.REMOVED,
            None,
        }
    ),
    # queued -> scheduled: the executor lost the workload before it started (reset, no retry used);
    # queued -> failed / up_for_retry: the try could not start (pod never ran, pending timeout).
    TaskInstanceState.QUEUED: frozenset(
        {
            TaskInstanceState.RUNNING,
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.FAILED,
            TaskInstanceState.UP_FOR_RETRY,
            TaskInstanceState.REMOVED,
            None,
        }
    ),
    TaskInstanceState.RUNNING: frozenset(
        {
            TaskInstanceState.SUCCESS,
            TaskInstanceState.FAILED,
            TaskInstanceState.UP_FOR_RETRY,
            TaskInstanceState.UP_FOR_RESCHEDULE,
            TaskInstanceState.DEFERRED,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.REMOVED,
            None,
        }
    ),
    TaskInstanceState.UP_FOR_RETRY: frozenset(
        {TaskInstanceState.SCHEDULED, TaskInstanceState.FAILED, TaskInstanceState.REMOVED, None}
    ),
    # up_for_reschedule -> scheduled at the next poke time (same try); -> skipped by a dagrun_timeout.
    TaskInstanceState.UP_FOR_RESCHEDULE: frozenset(
        {
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.FAILED,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.REMOVED,
            None,
        }
    ),
    # deferred -> scheduled when its trigger fires, times out or fails (same try); -> skipped by a dagrun_timeout.
    TaskInstanceState.DEFERRED: frozenset(
        {
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.FAILED,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.REMOVED,
            None,
        }
    ),
    TaskInstanceState.SUCCESS: frozenset({None, TaskInstanceState.REMOVED}),
    TaskInstanceState.FAILED: frozenset({None, TaskInstanceState.REMOVED}),
    TaskInstanceState.UPSTREAM_FAILED: frozenset({None, TaskInstanceState.REMOVED}),
    TaskInstanceState.SKIPPED: frozenset({None, TaskInstanceState.REMOVED}),
    TaskInstanceState.REMOVED: frozenset({None}),
}

#: A user may mark any task instance success or failed, and clear (-> None) any of them.
USER_TI_TARGETS: frozenset[TaskInstanceState | None] = frozenset(
    {TaskInstanceState.SUCCESS, TaskInstanceState.FAILED, TaskInstanceState.SKIPPED, None}
)

DAG_RUN_TRANSITIONS: dict[DagRunState, frozenset[DagRunState]] = {
    DagRunState.QUEUED: frozenset({DagRunState.RUNNING, DagRunState.FAILED, DagRunState.SUCCESS}),
    DagRunState.RUNNING: frozenset({DagRunState.SUCCESS, DagRunState.FAILED, DagRunState.QUEUED}),
    DagRunState.SUCCESS: frozenset({DagRunState.QUEUED, DagRunState.RUNNING, DagRunState.FAILED}),
    DagRunState.FAILED: frozenset({DagRunState.QUEUED, DagRunState.RUNNING, DagRunState.SUCCESS}),
}


def can_transition_ti(current: TaskInstanceState | None, target: TaskInstanceState | None) -> bool:
    return target in TI_TRANSITIONS[current]


def check_ti_transition(
    current: TaskInstanceState | None, target: TaskInstanceState | None, *, by_user: bool = False
) -> None:
    """Raise InvalidTransitionError unless ``current -> target`` is allowed."""
    if by_user and target in USER_TI_TARGETS:
        return
    if not can_transition_ti(current, target):
        raise InvalidTransitionError("task instance", current or "none", target or "none")


def check_dag_run_transition(current: DagRunState, target: DagRunState) -> None:
    if target not in DAG_RUN_TRANSITIONS[current]:
        raise InvalidTransitionError("DAG run", current, target)
