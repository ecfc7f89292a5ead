"""DAG run bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tradewind.store.tables import DagRunModel


class DAGRun(BaseModel):
    dag_run_id: str
    dag_id: str
    logical_date: datetime
    execution_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    last_scheduling_decision: datetime | None
    run_type: str
    state: str
    external_trigger: bool
    triggered_by: str | None
    conf: dict[str, Any]
    note: str | None


class DAGRunCollection(BaseModel):
    dag_runs: list[DAGRun]
    total_entries: int


class TriggerDAGRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dag_run_id: str | None = None
    logical_date: datetime | None = None
    conf: dict[str, Any] | None = None
    note: str | None = None


class DAGRunStatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["success", "failed", "queued"]


class ClearDAGRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = True
    only_failed: bool = False


def dag_run_body(run: DagRunModel) -> dict[str, Any]:
    return {
        "dag_run_id": run.run_id,
        "dag_id": run.dag_id,
        "logical_date": run.logical_date,
        "execution_date": run.logical_date,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "queued_at": run.queued_at,
        "start_date": run.start_date,
        "end_date": run.end_date,
        "last_scheduling_decision": run.last_scheduling_decision,
        "run_type": run.run_type,
        "state": run.state,
        "external_trigger": run.external_trigger,
        "triggered_by": run.triggered_by,
        "conf": run.conf or {},
        "note": run.note,
    }
