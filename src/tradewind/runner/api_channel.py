"""The runner's side of the task execution API: HTTP calls (``api_transport``) with the try's token, retried
while the API is unreachable (a webserver restarting must not fail the tries it serves), errors mapped onto
the error tree.
No SQLAlchemy here: a try that talks HTTP never loads the ORM."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tradewind.core.json_values import encode_xcom_value
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.outage import retry_through_outage
from tradewind.execution.models import (
    ClaimAnswer,
    ClaimedTry,
    ClaimRequest,
    DeferAnswer,
    DeferReport,
    FinishAnswer,
    HeartbeatAnswer,
    Refusal,
    RescheduleAnswer,
    RescheduleReport,
    TryEnded,
    TryReport,
)
from tradewind.runner.api_transport import Answer, ApiTransport, TransportFailure
from tradewind.sdk.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TaskStateValueError,
    TradewindError,
)
from tradewind.sdk.legacy_context import PreviousSuccess
from tradewind.sdk.runtime import XCOM_ABSENT, DagRunExists, RescheduleHistory, TriggeredRun

log = logging.getLogger(__name__)
#: Answers worth trying again: the API or a proxy in front of it is (re)starting.
RETRYABLE_STATUS = frozenset({502, 503, 504})


class ExecutionApiError(TradewindError):
    """The execution API could not be reached, or refused a call for a reason of its own."""


class _Unavailable(Exception):
    """A call that may succeed if made again (connection refused, 503 ...)."""


class ExecutionApiClient:
    """Calls of one try, with its current token (replaced as the API hands out new ones)."""

    def __init__(self, url: str, token: str, *, retry_seconds: float) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._lock = threading.Lock()
        self._retry_seconds = retry_seconds
        self._http = ApiTransport(self._url)

    def set_token(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._token = token

    def close(self) -> None:
        self._http.close()

    def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
        content: str | None = None,
    ) -> Any:  # fmt: skip
        """The decoded JSON answer. Transport failures and 502/503/504 (the API restarting, or its database
        unusable) are retried with ``core.outage``'s backoff for ``retry_seconds``, then raised."""
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        payload = content.encode() if content is not None else None
        try:
            return retry_through_outage(
                lambda: self._once(method, path, params=params, payload=payload),
                window=self._retry_seconds,
                retryable=lambda exc: isinstance(exc, _Unavailable),
                on_retry=lambda exc, pause, failures: _log_retry(path, exc, pause, failures),
            )
        except _Unavailable as exc:
            raise ExecutionApiError(
                f"the execution API at {self._url} stayed unusable for {self._retry_seconds:g} s: {exc}"
            ) from None

    def _once(self, method: str, path: str, *, params: Any, payload: bytes | None) -> Any:
        with self._lock:
            headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, path, params=_params(params), body=payload, headers=headers)
        except TransportFailure as exc:
            raise _Unavailable(str(exc)) from None
        if response.status in RETRYABLE_STATUS:
            raise _Unavailable(f"HTTP {response.status}: {_detail(response)}")
        if response.is_success:
            return response.json()
        raise _error_for(response)


def _log_retry(path: str, exc: BaseException, pause: float, failures: int) -> None:
    # Once per outage, then every tenth failure: the try's log should show the wait, not drown in it.
    if failures == 1 or failures % 10 == 0:
        log.warning("execution API call %s unanswered (%s); retrying in %.1f s", path, exc, pause)


def _detail(response: Answer) -> str:
    try:
        return str(response.json().get("detail") or response.reason)[:300]
    except (ValueError, AttributeError):
        return response.reason


def _params(params: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if params is None else {k: v for k, v in params.items() if v is not None}


def _error_for(response: Answer) -> TradewindError:
    try:
        detail = str(response.json().get("detail") or response.reason)
    except (ValueError, AttributeError):
        detail = response.text[:500] or response.reason
    status = response.status
    detail = f"{response.method} {response.path}: {detail}"
    if status == 401:
        return AuthenticationError(f"the execution API refused the task token: {detail}")
    if status == 403:
        return PermissionDeniedError(detail)
    if status == 404:
        return NotFoundError(detail)
    if status == 409:
        return ConflictError(detail)
    return ExecutionApiError(f"the execution API answered {status}: {detail}")


class ApiChannel:
    """A TryChannel over the execution API."""

    def __init__(self, client: ExecutionApiClient, key: TaskInstanceKey) -> None:
        self.client = client
        self.key = key

    def claim(self, *, hostname: str, pid: int) -> ClaimedTry | Refusal:
        body = ClaimRequest(hostname=hostname, pid=pid).model_dump(mode="json")
        answer = ClaimAnswer.model_validate(self.client.call("POST", "/try/claim", body=body))
        if answer.claimed is None:
            return answer.refusal or Refusal(reason="the execution API gave no reason")
        self.client.set_token(answer.claimed.token)
        return answer.claimed

    def heartbeat(self) -> str | None:
        answer = HeartbeatAnswer.model_validate(self.client.call("POST", "/try/heartbeat"))
        self.client.set_token(answer.token)
        return answer.taken_away

    def finish(self, report: TryReport) -> TryEnded | str:
        # The report's rendered fields and asset events are JSON already (the runner made them so).
        answer = FinishAnswer.model_validate(
            self.client.call("POST", "/try/finish", body=report.model_dump(mode="json"))
        )
        if answer.ended is None:
            return answer.taken_away or "unknown"
        self.client.set_token(answer.ended.token)
        return answer.ended

    def reschedule(self, report: RescheduleReport) -> str | None:
        raw = self.client.call("POST", "/try/reschedule", body=report.model_dump(mode="json"))
        return RescheduleAnswer.model_validate(raw).taken_away

    def defer(self, report: DeferReport) -> str | None:
        raw = self.client.call("POST", "/try/defer", body=report.model_dump(mode="json"))
        return DeferAnswer.model_validate(raw).taken_away

    def previous_success(self, *, logical_date: datetime) -> PreviousSuccess | None:
        raw = self.client.call(
            "GET", "/try/previous-success", params={"logical_date": logical_date.isoformat()}
        )
        if not raw.get("logical_date"):
            return None
        start = raw.get("task_start_date")
        return PreviousSuccess(
            datetime.fromisoformat(raw["logical_date"]), datetime.fromisoformat(start) if start else None
        )

    def runtime(self) -> ApiRuntime:
        return ApiRuntime(self.client, self.key)

    def close(self) -> None:
        self.client.close()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class ApiRuntime:
    """``tradewind.sdk.runtime.TaskRuntime`` over the execution API."""

    def __init__(self, client: ExecutionApiClient, key: TaskInstanceKey) -> None:
        self._client = client
        self._key = key

    # -- variables ------------------------------------------------------------------------------------------
    def get_variable(self, key: str) -> str | None:
        try:
            value = self._client.call("GET", "/variables", params={"key": key})["value"]
        except NotFoundError:
            return None
        return None if value is None else str(value)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self._client.call(
            "PUT", "/variables", params={"key": key}, body={"value": value, "description": description}
        )

    def delete_variable(self, key: str) -> None:
        self._client.call("DELETE", "/variables", params={"key": key})

    # -- connections ----------------------------------------------------------------------------------------
    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        try:
            fields: dict[str, Any] = self._client.call("GET", "/connections", params={"conn_id": conn_id})
        except NotFoundError:
            return None
        return fields

    # -- XCom -------------------------------------------------------------------------------------------------
    def xcom_push(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        encoded = encode_xcom_value(value, task_id=task_id, key=key)
        self._client.call(
            "PUT", "/xcoms",
            params={"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index, "key": key},
            content='{"value": ' + encoded + "}",
        )  # fmt: skip

    def xcom_pull(self, *, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None) -> Any:
        answer = self._client.call(
            "GET", "/xcoms",
            params={"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "key": key, "map_index": map_index},
        )  # fmt: skip
        return answer["value"] if answer["found"] else XCOM_ABSENT

    # -- branching, sensors and cross-DAG operators ---------------------------------------------------------
    def skip_tasks(self, *, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        if task_ids:
            self._client.call(
                "POST",
                "/dag-runs/skip",
                params={"dag_id": dag_id, "run_id": run_id},
                body={"task_ids": list(task_ids)},
            )

    def reschedule_history(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> RescheduleHistory:
        self._require_own(TaskInstanceKey(dag_id, run_id, task_id, map_index))
        raw = self._client.call("GET", "/try/reschedule-history")
        return RescheduleHistory(count=int(raw["count"]), first_start=_dt(raw.get("first_start")))

    def dag_task_ids(self, *, dag_id: str) -> dict[str, str | None] | None:
        tasks: dict[str, str | None] | None = self._client.call(
            "GET", "/dags/task-groups", params={"dag_id": dag_id}
        )["tasks"]
        return tasks

    def dag_run_states(self, *, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
        body = {"logical_dates": [d.isoformat() for d in logical_dates]}
        return list(
            self._client.call("POST", "/dags/run-states", params={"dag_id": dag_id}, body=body)["states"]
        )

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        body = {"logical_dates": [d.isoformat() for d in logical_dates], "task_ids": list(task_ids)}
        return list(
            self._client.call("POST", "/dags/task-states", params={"dag_id": dag_id}, body=body)["states"]
        )

    def trigger_dag_run(
        self,
        *,
        dag_id: str,
        run_id: str | None,
        logical_date: datetime | None,
        conf: dict[str, Any],
        reset_dag_run: bool,
        triggered_by: str,
    ) -> TriggeredRun:
        body = {
            "run_id": run_id,
            "logical_date": logical_date.isoformat() if logical_date is not None else None,
            "conf": conf,
            "reset_dag_run": reset_dag_run,
            "triggered_by": triggered_by,
        }
        try:
            raw = self._client.call("POST", "/dags/dag-runs", params={"dag_id": dag_id}, body=body)
        except ConflictError as exc:
            if run_id is not None and "exists" in str(exc):
                raise DagRunExists(dag_id, run_id) from None
            raise
        return TriggeredRun(
            dag_id=raw["dag_id"], run_id=raw["run_id"], logical_date=_dt(raw.get("logical_date"))
        )

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        state: str | None = self._client.call(
            "GET", "/dag-runs/state", params={"dag_id": dag_id, "run_id": run_id}
        )["state"]
        return state

    # -- assets -------------------------------------------------------------------------------------------------
    def asset_events(
        self, *, name: str | None = None, uri: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        raw = self._client.call("GET", "/assets/events", params={"name": name, "uri": uri, "alias": alias})
        return list(raw["events"])

    def consumed_asset_events(self, *, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        raw = self._client.call(
            "GET", "/dag-runs/consumed-asset-events", params={"dag_id": dag_id, "run_id": run_id}
        )
        return list(raw["events"])

    def get_asset_state(self, *, name: str | None, uri: str | None, key: str) -> Any:
        return self._client.call("GET", "/assets/state", params={"name": name, "uri": uri, "key": key})[
            "value"
        ]

    def set_asset_state(self, *, name: str | None, uri: str | None, key: str, value: Any) -> None:
        self._client.call(
            "PUT",
            "/assets/state",
            params={"name": name, "uri": uri, "key": key},
            content=_value_json(value, key),
        )

    def delete_asset_state(self, *, name: str | None, uri: str | None, key: str) -> None:
        self._client.call("DELETE", "/assets/state", params={"name": name, "uri": uri, "key": key})

    def clear_asset_state(self, *, name: str | None, uri: str | None) -> None:
        self._client.call("DELETE", "/assets/state", params={"name": name, "uri": uri})

    # -- the task state store: this try's task instance only ------------------------------------------------------
    def get_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> Any:
        self._require_own(TaskInstanceKey(dag_id, run_id, task_id, map_index))
        return self._client.call("GET", "/task-state", params={"key": key})["value"]

    def set_task_state(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        key: str,
        value: Any,
        expires_at: datetime | None,
    ) -> None:
        self._require_own(TaskInstanceKey(dag_id, run_id, task_id, map_index))
        expires = "null" if expires_at is None else f'"{expires_at.isoformat()}"'
        content = _value_json(value, key)[:-1] + f', "expires_at": {expires}}}'
        self._client.call("PUT", "/task-state", params={"key": key}, content=content)

    def delete_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> None:
        self._require_own(TaskInstanceKey(dag_id, run_id, task_id, map_index))
        self._client.call("DELETE", "/task-state", params={"key": key})

    def clear_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        self._require_own(TaskInstanceKey(dag_id, run_id, task_id, map_index))
        self._client.call("DELETE", "/task-state")

    def _require_own(self, key: TaskInstanceKey) -> None:
        if key != self._key:
            raise PermissionDeniedError(f"a try of {self._key} cannot reach the state of {key}")


def _value_json(value: Any, key: str) -> str:
    """``{"value": ...}`` as JSON text; TaskStateValueError (a ValueError) for what JSON cannot hold."""
    try:
        return '{"value": ' + json.dumps(value, allow_nan=False) + "}"
    except (TypeError, ValueError) as exc:
        raise TaskStateValueError(f"the value under {key!r} is not JSON-serialisable: {exc}") from None
