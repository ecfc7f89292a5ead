"""The allowed state transitions of task instances and DAG runs, as explicit tables.

Every state change goes through ``check_*`` here and then a conditional UPDATE (compare-and-set) in the
store, so two schedulers, or a scheduler and a runner, can never both move the same row.
"""

from __future__ import annotations

from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.sdk.errors import InvalidTransitionError

TI = TaskInstanceState

#: from-state -> states the system (scheduler, executor, runner) may move it to.
TI_TRANSITIONS: dict[TaskInstanceState | None, frozenset[TaskInstanceState | None]] = {
    None: frozenset({TI.SCHEDULED, TI.SKIPPED, TI.UPSTREAM_FAILED, TI.REMOVED}),
    # scheduled -> success: an EmptyOperator is done without starting a process.
    TI.SCHEDULED: frozenset({TI.QUEUED, TI.SUCCESS, TI.SKIPPED, TI.UPSTREAM_FAILED, TI.REMOVED, None}),
    # queued -> scheduled: the executor lost the workload before it started (reset, no retry used);
    # queued -> failed / up_for_retry: the try could not start (pod never ran, pending timeout).
    TI.QUEUED: frozenset({TI.RUNNING, TI.SCHEDULED, TI.FAILED, TI.UP_FOR_RETRY, TI.REMOVED, None}),
    TI.RUNNING: frozenset(
        {TI.SUCCESS, TI.FAILED, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE, TI.DEFERRED, TI.SKIPPED, TI.REMOVED, None}
    ),
    TI.UP_FOR_RETRY: frozenset({TI.SCHEDULED, TI.FAILED, TI.REMOVED, None}),
    # up_for_reschedule -> scheduled at the next poke time (same try); -> skipped by a dagrun_timeout.
    TI.UP_FOR_RESCHEDULE: frozenset({TI.SCHEDULED, TI.FAILED, TI.SKIPPED, TI.REMOVED, None}),
    # deferred -> scheduled when its trigger fires, times out or fails (same try); -> skipped by a dagrun_timeout.
    TI.DEFERRED: frozenset({TI.SCHEDULED, TI.FAILED, TI.SKIPPED, TI.REMOVED, None}),
    TI.SUCCESS: frozenset({None, TI.REMOVED}),
    TI.FAILED: frozenset({None, TI.REMOVED}),
    TI.UPSTREAM_FAILED: frozenset({None, TI.REMOVED}),
    TI.SKIPPED: frozenset({None, TI.REMOVED}),
    TI.REMOVED: frozenset({None}),
}

#: A user may mark any task instance success or failed, and clear (-> None) any of them.
USER_TI_TARGETS: frozenset[TaskInstanceState | None] = frozenset({TI.SUCCESS, TI.FAILED, TI.SKIPPED, None})

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
