"""How many task instances a mapped task, or a task of a mapped task group, expands to: read from the stored
expand spec and the run's upstream XComs; and which upstream instances one map index depends on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import MappedArg, SerializedDag, SerializedTask
from tradewind.sdk.errors import TaskExecutionError
from tradewind.sdk.expand_input import expansion_length, spec_sources
from tradewind.store import xcom
from tradewind.store.scheduling import PlannedTi


def expansion_size(session: Session, ti: PlannedTi, expand: Mapping[str, MappedArg], *, what: str) -> int:
    """The number of map indexes; TaskExecutionError (the reason to record) when an upstream value is not a
    list or dict. Called once the upstream tasks it reads are done: a missing XCom counts as None."""

    def lookup(task_id: str, key: str) -> Any:
        return xcom.get_xcom(
            session=session, dag_id=ti.dag_id, run_id=ti.run_id, task_id=task_id, map_index=None, key=key
        )

    try:
        length = expansion_length(expand, lookup)
    except TaskExecutionError as exc:
        raise TaskExecutionError(f"cannot expand {what}: {exc}") from None
    assert length is not None  # the lookup never answers "unavailable"
    return length


def group_spec(sdag: SerializedDag, task: SerializedTask) -> dict[str, MappedArg]:
    """What the mapped task group of ``task`` expands over."""
    assert task.mapped_group is not None
    group = sdag.task_groups.get(task.mapped_group)
    if group is None or group.expand is None:
        raise TaskExecutionError(
            f"task {task.task_id!r}: mapped task group {task.mapped_group!r} is not stored"
        )
    return group.expand


def group_sources(expand: Mapping[str, MappedArg]) -> set[str]:
    """The tasks whose XComs a mapped task group's expansion reads."""
    return spec_sources(expand)


def relevant_upstream(
    sdag: SerializedDag,
    task: SerializedTask,
    ti: PlannedTi,
    upstream_id: str,
    upstream_tis: Sequence[PlannedTi],
) -> Sequence[PlannedTi]:
    """The instances of an upstream task that ``ti`` waits for: inside one mapped task group, the same map
    index (or the unexpanded placeholder); otherwise all of them."""
    if task.mapped_group is None or ti.map_index < 0:
        return upstream_tis
    upstream = sdag.task_dict.get(upstream_id)
    if upstream is None or upstream.mapped_group != task.mapped_group:
        return upstream_tis
    same = [t for t in upstream_tis if t.map_index == ti.map_index]
    return same or [t for t in upstream_tis if t.map_index == -1]
