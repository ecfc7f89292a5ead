"""What the grid view shows: task rows under their groups, and per run its duration bar, date and cells."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.api.ui.graph_layout import group_members
from tradewind.api.ui.live_state import task_details_by_run
from tradewind.api.ui.run_states import group_states
from tradewind.core.serialized_dag import SerializedDag
from tradewind.store.tables import DagRunModel

#: The tallest duration bar, in pixels; the longest run shown gets it, the others in proportion.
BAR_MAX_PX = 56
BAR_MIN_PX = 4


@dataclass(frozen=True, slots=True)
class GridRun:
    run: DagRunModel
    duration: float | None
    bar_px: int


def grid_rows(sdag: SerializedDag) -> list[dict[str, Any]]:
    """Tasks in order, each under its group headings, with the depth to indent by."""
    rows: list[dict[str, Any]] = []
    shown: set[str] = set()
    for task in sdag.tasks:
        chain = []
        group = task.task_group
        while group and group in sdag.task_groups:
            chain.append(group)
            group = sdag.task_groups[group].parent
        chain.reverse()
        for depth, group_id in enumerate(chain):
            if group_id not in shown:
                shown.add(group_id)
                mapped = sdag.task_groups[group_id].expand is not None
                rows.append(
                    {"kind": "group", "id": group_id, "label": group_id, "depth": depth, "mapped": mapped}
                )
        rows.append(
            {
                "kind": "task",
                "id": task.task_id,
                "label": task.display_name,
                "depth": len(chain),
                "mapped": task.is_mapped,
            }
        )
    return rows


def run_duration(run: DagRunModel, now: datetime) -> float | None:
    """Seconds from start to end, or to ``now`` while the run is going on."""
    if run.start_date is None:
        return None
    end = run.end_date or now
    return max(0.0, (end - run.start_date).total_seconds())


def grid_runs(runs: Sequence[DagRunModel], now: datetime) -> list[GridRun]:
    durations = [run_duration(r, now) for r in runs]
    longest = max((d for d in durations if d is not None), default=0.0)
    shown = []
    for run, duration in zip(runs, durations, strict=True):
        px = BAR_MIN_PX
        if duration is not None and longest > 0:
            px = max(BAR_MIN_PX, round(BAR_MAX_PX * duration / longest))
        shown.append(GridRun(run=run, duration=duration, bar_px=px))
    return shown


def grid_values(
    session: Session, sdag: SerializedDag, runs: Sequence[DagRunModel], now: datetime
) -> dict[str, Any]:
    """Everything the grid template needs, in two queries (runs are given; task instances in one)."""
    details = task_details_by_run(session, sdag.dag_id, [r.run_id for r in runs])
    members = group_members(sdag)
    group_cells = {
        r.run_id: group_states({t: d["state"] for t, d in details.get(r.run_id, {}).items()}, members)
        for r in runs
    }
    mapped_totals: dict[str, int] = {}
    for tasks in details.values():
        for task_id, detail in tasks.items():
            if "mapped" in detail:
                mapped_totals[task_id] = max(mapped_totals.get(task_id, 0), detail["mapped"]["total"])
    return {
        "grid_runs": grid_runs(runs, now),
        "rows": grid_rows(sdag),
        "cells": details,
        "group_cells": group_cells,
        "mapped_totals": mapped_totals,
    }
