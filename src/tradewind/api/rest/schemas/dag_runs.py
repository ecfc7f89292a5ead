"""DAG run bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tradewind.api.rest.schemas.assets import DatasetEvent, dataset_event_from_dict
from tradewind.api.rest.schemas.strict import JsonDatetime, RequestBody
from tradewind.core.redaction import redact
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
    #: The asset events an asset-triggered run consumed (Airflow 2's dataset event shape).
    consumed_asset_events: list[DatasetEvent] = Field(default_factory=list)


class DAGRunCollection(BaseModel):
    dag_runs: list[DAGRun]
    total_entries: int


class TriggerDAGRun(RequestBody):
    dag_run_id: str | None = None
    logical_date: JsonDatetime | None = None
    execution_date: JsonDatetime | None = Field(
        default=None, description="Airflow 2's old name of logical_date"
    )
    conf: dict[str, Any] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_logical_date(self) -> TriggerDAGRun:
        if self.execution_date is not None:
            if self.logical_date is not None and self.logical_date != self.execution_date:
                raise ValueError("logical_date and execution_date differ; send only logical_date")
            self.logical_date = self.execution_date
        return self


class DAGRunStatePatch(RequestBody):
    state: Literal["success", "failed", "queued"]


class ClearDAGRun(RequestBody):
    dry_run: bool = True
    only_failed: bool = False


def dag_run_body(run: DagRunModel, consumed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The v1 run body; ``consumed``: its consumed events as ``store.asset_queue.consumed_events`` gives."""
    return {
        "consumed_asset_events": [dataset_event_from_dict(e) for e in consumed or []],
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
        # Airflow 2 names the type after datasets (its client checks the value against that list).
        "run_type": "dataset_triggered" if run.run_type == "asset_triggered" else run.run_type,
        "state": run.state,
        "external_trigger": run.external_trigger,
        "triggered_by": run.triggered_by,
        "conf": redact(run.conf or {}),
        "note": run.note,
    }
