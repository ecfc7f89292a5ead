"""Variable, pool, import error, health and version bodies of /api/v2 (Airflow 3's public API shapes)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tradewind.api.rest.schemas.bounds import NonNegativeInt
from tradewind.api.rest.schemas.strict import RequestBody
from tradewind.core.redaction import redact_json_text
from tradewind.store.pools import PoolUsage
from tradewind.store.tables import ImportErrorModel, VariableModel


class VariableResponse(BaseModel):
    key: str
    value: str | None
    description: str | None
    is_encrypted: bool = False
    team_name: str | None = None


class VariableCollectionResponse(BaseModel):
    variables: list[VariableResponse]
    total_entries: int


class VariableBody(RequestBody):
    """``value`` may be any JSON value; anything but a string is stored as its JSON text, as Airflow."""

    key: str = Field(min_length=1, max_length=250)
    value: Any
    description: str | None = None
    team_name: str | None = Field(default=None, max_length=50)

    def stored_value(self) -> str:
        return self.value if isinstance(self.value, str) else json.dumps(self.value)


class PoolResponse(BaseModel):
    name: str
    slots: int
    description: str | None
    include_deferred: bool = False
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int = 0
    open_slots: int
    deferred_slots: int = 0
    team_name: str | None = None


class PoolCollectionResponse(BaseModel):
    pools: list[PoolResponse]
    total_entries: int


class PoolBody(RequestBody):
    """Airflow 3's body; Tradewind has no unlimited pools, so ``slots`` is 0 or more (not -1)."""

    name: str = Field(min_length=1, max_length=256)
    slots: NonNegativeInt
    description: str | None = None
    include_deferred: bool = False
    team_name: str | None = Field(default=None, max_length=50)


class PoolPatchBody(RequestBody):
    pool: str | None = None
    slots: NonNegativeInt | None = None
    description: str | None = None
    include_deferred: bool | None = None
    team_name: str | None = Field(default=None, max_length=50)


class ImportErrorResponse(BaseModel):
    import_error_id: int
    timestamp: datetime
    filename: str
    bundle_name: str | None
    stack_trace: str


class ImportErrorCollectionResponse(BaseModel):
    import_errors: list[ImportErrorResponse]
    total_entries: int


class BaseInfoResponse(BaseModel):
    status: str | None


class SchedulerInfoResponse(BaseInfoResponse):
    latest_scheduler_heartbeat: str | None


class TriggererInfoResponse(BaseInfoResponse):
    latest_triggerer_heartbeat: str | None = None


class DagProcessorInfoResponse(BaseInfoResponse):
    latest_dag_processor_heartbeat: str | None = None


class HealthInfoResponse(BaseModel):
    metadatabase: BaseInfoResponse
    scheduler: SchedulerInfoResponse
    triggerer: TriggererInfoResponse
    dag_processor: DagProcessorInfoResponse | None = None


class VersionInfo(BaseModel):
    version: str
    git_version: str | None = None


def variable_response(row: VariableModel) -> dict[str, Any]:
    value, _masked = redact_json_text(row.val, row.key)
    return {"key": row.key, "value": value, "description": row.description}


def pool_response(pool: PoolUsage) -> dict[str, Any]:
    return {
        "name": pool.name,
        "slots": pool.slots,
        "description": pool.description,
        "occupied_slots": pool.occupied,
        "running_slots": pool.running,
        "queued_slots": pool.queued,
        "open_slots": pool.open,
    }


def import_error_response(row: ImportErrorModel, bundle_name: str) -> dict[str, Any]:
    return {
        "import_error_id": row.id,
        "timestamp": row.timestamp,
        "filename": row.filename,
        "bundle_name": bundle_name,
        "stack_trace": row.stacktrace or row.message,
    }
