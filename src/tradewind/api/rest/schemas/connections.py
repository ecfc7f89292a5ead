"""Connection bodies: /api/v1 in Airflow 2's stable-API shapes, /api/v2 in Airflow 3's. A password is only
ever written: v1 answers never hold the field, v2 answers hold ``***`` when one is set; ``extra`` is masked."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict

from tradewind.api.rest.schemas.strict import RequestBody
from tradewind.core.redaction import MASK
from tradewind.sdk.connection import Connection
from tradewind.secrets.connection_view import CONN_ID_PATTERN, masked_extra_text
from tradewind.store.tables import ID_LEN

ConnId = Annotated[str, Field(min_length=1, max_length=ID_LEN, pattern=CONN_ID_PATTERN)]
Port = Annotated[int, Strict(), Field(ge=0, le=65535)]
Text500 = Annotated[str, Field(max_length=500)]


class _Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ConnectionCollectionItem(_Aliased):
    connection_id: str
    conn_type: str
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    port: int | None = None


class ConnectionV1(ConnectionCollectionItem):
    extra: str | None = Field(default=None, description="JSON text; values under secret-looking keys are ***")


class ConnectionCollection(BaseModel):
    connections: list[ConnectionCollectionItem]
    total_entries: int


class ConnectionBody(RequestBody):
    """What a client sends (both versions): ``password`` is write-only, ``extra`` JSON object text."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)

    connection_id: ConnId
    conn_type: Annotated[str, Field(min_length=1, max_length=500)]
    description: str | None = None
    host: Text500 | None = None
    login: str | None = None
    schema_: Text500 | None = Field(default=None, alias="schema")
    port: Port | None = None
    password: str | None = Field(default=None, json_schema_extra={"writeOnly": True})
    extra: str | None = None
    team_name: str | None = Field(default=None, max_length=50, description="accepted for Airflow 3; not used")

    def fields(self, names: set[str] | None = None) -> dict[str, Any]:
        """The connection fields of this body (``schema``'s real name), only ``names`` when given."""
        values = {
            "conn_type": self.conn_type, "description": self.description, "host": self.host, "login": self.login,
            "schema": self.schema_, "port": self.port, "password": self.password, "extra": self.extra,
        }  # fmt: skip
        return values if names is None else {k: v for k, v in values.items() if k in names}

    def given(self) -> set[str]:
        """The connection fields the client sent."""
        return {"schema" if name == "schema_" else name for name in self.model_fields_set} - {
            "connection_id",
            "team_name",
        }


class ConnectionTestResult(BaseModel):
    status: bool
    message: str


class ConnectionResponse(ConnectionCollectionItem):
    """Airflow 3's ``ConnectionResponse``: v1's listed fields, then these."""

    password: str | None = Field(default=None, description="*** when a password is set, else null")
    extra: str | None = None
    team_name: str | None = None


class ConnectionCollectionResponse(BaseModel):
    connections: list[ConnectionResponse]
    total_entries: int


def v1_item(connection: Connection) -> dict[str, Any]:
    return {
        "connection_id": connection.conn_id, "conn_type": connection.conn_type,
        "description": connection.description, "host": connection.host, "login": connection.login,
        "schema": connection.schema, "port": connection.port,
    }  # fmt: skip


def v1_connection(connection: Connection) -> dict[str, Any]:
    return {**v1_item(connection), "extra": masked_extra_text(connection)}


def v2_connection(connection: Connection) -> dict[str, Any]:
    return {**v1_connection(connection), "password": MASK if connection.password else None}
