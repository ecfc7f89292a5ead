"""The life-cycle states of DAG runs and task instances, as str Enums."""

from __future__ import annotations

from enum import StrEnum


class TaskInstanceState(StrEnum):
    """State of one task instance. ``None`` (no state yet) is stored as NULL and written ``"none"`` in APIs."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    #: A sensor in reschedule mode between two pokes: the try goes on later, with the same try number.
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    #: The try handed its waiting to a trigger (``BaseOperator.defer``): no process, no slot; when the trigger
    #: fires (or times out, or fails) it is scheduled again and resumes with the same try number.
    DEFERRED = "deferred"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    REMOVED = "removed"


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


class DagRunType(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    BACKFILL = "backfill"
    #: Created by the scheduler when the assets a DAG is scheduled on were updated.
    ASSET_TRIGGERED = "asset_triggered"



#: States after which a try is over and will not change without a user action (clear / mark); also the
#: states that count as "done" for trigger rules.
FINISHED_TI_STATES: frozenset[TaskInstanceState] = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.REMOVED,
    }
)
#: States in which a try holds a slot (pool, parallelism, max_active_tasks).
ACTIVE_TI_STATES: frozenset[TaskInstanceState] = frozenset(
    {TaskInstanceState.QUEUED, TaskInstanceState.RUNNING}
)
FINISHED_DAG_RUN_STATES: frozenset[DagRunState] = frozenset({DagRunState.SUCCESS, DagRunState.FAILED})


def ti_state_or_none(value: str | None) -> TaskInstanceState | None:
    """A stored state column as a state: ``None`` (NULL, no state yet) stays ``None``."""
    return TaskInstanceState(value) if value else None


def ti_state_label(state: TaskInstanceState | None) -> str:
    """The state as users read it: ``"none"`` for no state yet."""
    return "none" if state is None else state.value
