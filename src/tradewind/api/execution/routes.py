"""The execution API's routes. Every call names its try through its token; ids of other objects go in
the query string or body (never in the path: run ids may hold any character)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tradewind.api.execution.token_auth import Caller, caller, renew_if_due
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.execution.db_runtime import DbRuntime
from tradewind.execution.models import (
    ClaimAnswer,
    ClaimRequest,
    DeferAnswer,
    DeferReport,
    FinishAnswer,
    HeartbeatAnswer,
    Refusal,
    RescheduleAnswer,
    RescheduleReport,
    TryReport,
)
from tradewind.execution.tokens import TokenScope
from tradewind.execution.try_ending import TakenAway
from tradewind.execution.try_state import TryState
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.runtime import XCOM_ABSENT

router = APIRouter(tags=["execution"], include_in_schema=False)
S = TokenScope
#: A running try's own calls.
Running = Annotated[Caller, Depends(caller(S.RUN, running=True))]
#: Reads (and variable writes) of a running try or of its callbacks after it ended.
Reader = Annotated[Caller, Depends(caller(S.RUN, S.ENDED))]
MAX_KEY = 512
Id = Annotated[str, Query(min_length=1, max_length=250)]
MapIndex = Annotated[int, Query(ge=-1, le=2**31)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _state(caller: Caller) -> TryState:
    ident = caller.identity
    return TryState(caller.ctx.write_factory, ident.key, ident.try_number)


def _runtime(caller: Caller) -> DbRuntime:
    return DbRuntime(
        caller.ctx.write_factory,
        allowed_run_id_pattern=caller.ctx.allowed_run_id_pattern,
        secrets=caller.ctx.secrets,
        caller=caller.identity.key,
    )


# -- the try's life-cycle ---------------------------------------------------------------------------------
# Every try makes these calls (claim, finish; heartbeats while it runs): coroutines that hand their database
# work to the thread pool once and answer the model's JSON as it stands. A plain function endpoint costs a
# second hand-off to the pool, for FastAPI's validation of the returned model against itself.
def _answer(model: BaseModel) -> Response:
    """What FastAPI would answer for ``model`` as the response model (``dump_json``, by alias)."""
    return Response(content=model.model_dump_json(by_alias=True), media_type="application/json")


def _claim(body: ClaimRequest, who: Caller) -> ClaimAnswer:
    result = _state(who).claim(now=utcnow(), hostname=body.hostname, pid=body.pid)
    if isinstance(result, Refusal):
        return ClaimAnswer(refusal=result)
    token = who.ctx.signer.issue(who.identity, S.RUN)
    return ClaimAnswer(claimed=result.model_copy(update={"token": token}))


@router.post("/try/claim", response_model=ClaimAnswer)
async def claim(body: ClaimRequest, who: Annotated[Caller, Depends(caller(S.CLAIM))]) -> Response:
    return _answer(await run_in_threadpool(_claim, body, who))


def _heartbeat(who: Caller) -> HeartbeatAnswer:
    taken_away = _state(who).heartbeat(now=utcnow())
    if taken_away is not None:
        return HeartbeatAnswer(taken_away=taken_away)
    return HeartbeatAnswer(token=renew_if_due(who))


@router.post("/try/heartbeat", response_model=HeartbeatAnswer)
async def heartbeat(who: Annotated[Caller, Depends(caller(S.RUN))]) -> Response:
    return _answer(await run_in_threadpool(_heartbeat, who))


def _finish(report: TryReport, who: Caller) -> FinishAnswer:
    end = _state(who).finish(report, now=utcnow())
    if isinstance(end, TakenAway):
        return FinishAnswer(taken_away=end.state)
    token = who.ctx.signer.issue(who.identity, S.ENDED)
    return FinishAnswer(ended=end.model_copy(update={"token": token}))


@router.post("/try/finish", response_model=FinishAnswer)
async def finish(report: TryReport, who: Annotated[Caller, Depends(caller(S.RUN))]) -> Response:
    return _answer(await run_in_threadpool(_finish, report, who))


@router.post("/try/reschedule")
def reschedule(report: RescheduleReport, who: Annotated[Caller, Depends(caller(S.RUN))]) -> RescheduleAnswer:
    return RescheduleAnswer(taken_away=_state(who).reschedule(report, now=utcnow()))


@router.post("/try/defer")
def defer(report: DeferReport, who: Annotated[Caller, Depends(caller(S.RUN))]) -> DeferAnswer:
    """The try deferred: store its trigger and move it running -> deferred (its process then exits)."""
    return DeferAnswer(taken_away=_state(who).defer(report, now=utcnow()))


class RescheduleHistoryBody(BaseModel):
    count: int
    first_start: datetime | None


@router.get("/try/reschedule-history")
def reschedule_history(who: Running) -> RescheduleHistoryBody:
    key, ident = who.identity.key, who.identity
    history = _runtime(who).reschedule_history(
        dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index,
        try_number=ident.try_number,
    )  # fmt: skip
    return RescheduleHistoryBody(count=history.count, first_start=history.first_start)


class PreviousSuccessBody(BaseModel):
    logical_date: datetime | None = None
    task_start_date: datetime | None = None


@router.get("/try/previous-success")
def previous_success(logical_date: datetime, who: Reader) -> PreviousSuccessBody:
    found = _state(who).previous_success(logical_date=logical_date)
    if found is None:
        return PreviousSuccessBody()
    return PreviousSuccessBody(logical_date=found.logical_date, task_start_date=found.task_start_date)


# -- variables ----------------------------------------------------------------------------------------------
class VariableBody(_Body):
    value: str | None = None
    description: str | None = Field(default=None, max_length=10_000)


VarKey = Annotated[str, Query(min_length=1, max_length=MAX_KEY)]


@router.get("/variables")
def get_variable(key: VarKey, who: Reader) -> VariableBody:
    value = _runtime(who).get_variable(key)
    if value is None:
        raise NotFoundError(f"variable {key!r} does not exist", kind="variable", ident=key)
    return VariableBody(value=value)


@router.put("/variables")
def set_variable(key: VarKey, body: VariableBody, who: Reader) -> dict[str, str]:
    _runtime(who).set_variable(key, body.value or "", body.description)
    return {"key": key}


@router.delete("/variables")
def delete_variable(key: VarKey, who: Reader) -> dict[str, str]:
    _runtime(who).delete_variable(key)
    return {"key": key}


# -- connections ------------------------------------------------------------------------------------------
class ConnectionBody(BaseModel):
    conn_id: str
    conn_type: str | None = None
    description: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    port: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(populate_by_name=True)


@router.get("/connections", response_model_by_alias=True)
def get_connection(conn_id: Id, who: Reader) -> ConnectionBody:
    """The connection's fields, from the secrets backends in order and then the database."""
    fields = _runtime(who).get_connection(conn_id)
    if fields is None:
        raise NotFoundError(f"connection {conn_id!r} is not defined", kind="connection", ident=conn_id)
    return ConnectionBody.model_validate(fields)


# -- XCom -----------------------------------------------------------------------------------------------------
class ValueBody(_Body):
    value: Any = None


@router.put("/xcoms")
def push_xcom(
    dag_id: Id, run_id: Id, task_id: Id, key: VarKey, map_index: MapIndex, body: ValueBody, who: Running
) -> dict[str, str]:
    who.require_own_task_instance(TaskInstanceKey(dag_id, run_id, task_id, map_index))
    _runtime(who).xcom_push(
        dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index, key=key, value=body.value
    )
    return {"key": key}


class XComAnswer(BaseModel):
    found: bool
    value: Any = None


@router.get("/xcoms")
def pull_xcom(
    dag_id: Id, run_id: Id, task_id: Id, key: VarKey, who: Reader,
    map_index: Annotated[int | None, Query(ge=-1, le=2**31)] = None,
) -> XComAnswer:  # fmt: skip
    value = _runtime(who).xcom_pull(
        dag_id=dag_id, run_id=run_id, task_id=task_id, key=key, map_index=map_index
    )
    if value is XCOM_ABSENT:
        return XComAnswer(found=False)
    return XComAnswer(found=True, value=value)


# -- branching, sensors and cross-DAG operators -----------------------------------------------------------
class TaskIdsBody(_Body):
    task_ids: list[Annotated[str, Field(max_length=250)]] = Field(max_length=100_000)


@router.post("/dag-runs/skip")
def skip_tasks(dag_id: Id, run_id: Id, body: TaskIdsBody, who: Running) -> dict[str, int]:
    who.require_own_run(dag_id, run_id)
    _runtime(who).skip_tasks(dag_id=dag_id, run_id=run_id, task_ids=body.task_ids)
    return {"count": len(body.task_ids)}


class TaskGroupsAnswer(BaseModel):
    tasks: dict[str, str | None] | None


@router.get("/dags/task-groups")
def dag_task_ids(dag_id: Id, who: Reader) -> TaskGroupsAnswer:
    return TaskGroupsAnswer(tasks=_runtime(who).dag_task_ids(dag_id=dag_id))


class StatesQuery(_Body):
    logical_dates: list[datetime] = Field(max_length=10_000)
    task_ids: list[Annotated[str, Field(max_length=250)]] | None = Field(default=None, max_length=10_000)


class StatesAnswer(BaseModel):
    states: list[str]


@router.post("/dags/run-states")
def dag_run_states(dag_id: Id, body: StatesQuery, who: Reader) -> StatesAnswer:
    return StatesAnswer(states=_runtime(who).dag_run_states(dag_id=dag_id, logical_dates=body.logical_dates))


@router.post("/dags/task-states")
def task_instance_states(dag_id: Id, body: StatesQuery, who: Reader) -> StatesAnswer:
    states = _runtime(who).task_instance_states(
        dag_id=dag_id, logical_dates=body.logical_dates, task_ids=body.task_ids or []
    )
    return StatesAnswer(states=states)


class TriggerBody(_Body):
    run_id: str | None = Field(default=None, max_length=250)
    logical_date: datetime | None = None
    conf: dict[str, Any] = Field(default_factory=dict)
    reset_dag_run: bool = False
    triggered_by: str = Field(default="", max_length=1000)


class TriggeredAnswer(BaseModel):
    dag_id: str
    run_id: str
    logical_date: datetime | None


@router.post("/dags/dag-runs")
def trigger_dag_run(dag_id: Id, body: TriggerBody, who: Running) -> TriggeredAnswer:
    run = _runtime(who).trigger_dag_run(
        dag_id=dag_id, run_id=body.run_id, logical_date=body.logical_date, conf=body.conf,
        reset_dag_run=body.reset_dag_run, triggered_by=body.triggered_by or str(who.identity),
    )  # fmt: skip
    return TriggeredAnswer(dag_id=run.dag_id, run_id=run.run_id, logical_date=run.logical_date)


class RunStateAnswer(BaseModel):
    state: str | None


@router.get("/dag-runs/state")
def dag_run_state(dag_id: Id, run_id: Id, who: Reader) -> RunStateAnswer:
    return RunStateAnswer(state=_runtime(who).dag_run_state(dag_id=dag_id, run_id=run_id))


# -- assets -----------------------------------------------------------------------------------------------------
class EventsAnswer(BaseModel):
    events: list[dict[str, Any]]


Name = Annotated[str | None, Query(max_length=1500)]


@router.get("/assets/events")
def asset_events(who: Reader, name: Name = None, uri: Name = None, alias: Name = None) -> EventsAnswer:
    return EventsAnswer(events=_runtime(who).asset_events(name=name, uri=uri, alias=alias))


@router.get("/dag-runs/consumed-asset-events")
def consumed_asset_events(dag_id: Id, run_id: Id, who: Reader) -> EventsAnswer:
    who.require_own_run(dag_id, run_id)
    return EventsAnswer(events=_runtime(who).consumed_asset_events(dag_id=dag_id, run_id=run_id))


@router.get("/assets/state")
def get_asset_state(key: VarKey, who: Reader, name: Name = None, uri: Name = None) -> ValueBody:
    return ValueBody(value=_runtime(who).get_asset_state(name=name, uri=uri, key=key))


@router.put("/assets/state")
def set_asset_state(
    key: VarKey, body: ValueBody, who: Running, name: Name = None, uri: Name = None
) -> ValueBody:
    _runtime(who).set_asset_state(name=name, uri=uri, key=key, value=body.value)
    return ValueBody(value=body.value)


@router.delete("/assets/state")
def delete_asset_state(
    who: Running,
    name: Name = None,
    uri: Name = None,
    key: Annotated[str | None, Query(max_length=MAX_KEY)] = None,
) -> dict[str, str]:
    if key is None:
        _runtime(who).clear_asset_state(name=name, uri=uri)
    else:
        _runtime(who).delete_asset_state(name=name, uri=uri, key=key)
    return {}


# -- the task state store: the try's own task instance only ------------------------------------------------
@router.get("/task-state")
def get_task_state(key: VarKey, who: Running) -> ValueBody:
    own = who.identity.key
    return ValueBody(
        value=_runtime(who).get_task_state(
            dag_id=own.dag_id, run_id=own.run_id, task_id=own.task_id, map_index=own.map_index, key=key
        )
    )


class TaskStateBody(_Body):
    value: Any
    expires_at: datetime | None = None


@router.put("/task-state")
def set_task_state(key: VarKey, body: TaskStateBody, who: Running) -> dict[str, str]:
    own = who.identity.key
    _runtime(who).set_task_state(
        dag_id=own.dag_id, run_id=own.run_id, task_id=own.task_id, map_index=own.map_index, key=key,
        value=body.value, expires_at=body.expires_at,
    )  # fmt: skip
    return {"key": key}


@router.delete("/task-state")
def delete_task_state(
    who: Running, key: Annotated[str | None, Query(max_length=MAX_KEY)] = None
) -> dict[str, str]:
    own = who.identity.key
    runtime = _runtime(who)
    if key is None:
        runtime.clear_task_state(
            dag_id=own.dag_id, run_id=own.run_id, task_id=own.task_id, map_index=own.map_index
        )
    else:
        runtime.delete_task_state(
            dag_id=own.dag_id, run_id=own.run_id, task_id=own.task_id, map_index=own.map_index, key=key
        )
    return {}
