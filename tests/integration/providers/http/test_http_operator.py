"""HttpOperator and HttpSensor against the real local HTTP service, run as the runner runs a task: templated
endpoint, data and headers; the answer (or a filter's value) pushed to XCom; response_check failing the task;
pagination; retries; a sensor that waits through "not yet" answers."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import tenacity

from tests.integration.providers.http.service import ITEMS, USER
from tests.unit.sdk.conftest import run_task
from tradewind import DAG
from tradewind.providers.http.hooks.http import HttpHook
from tradewind.providers.http.operators.http import HttpOperator, SimpleHttpOperator
from tradewind.providers.http.sensors.http import HttpSensor
from tradewind.sdk.errors import ExternalSystemError, TaskExecutionError
from tradewind.sdk.runtime import InMemoryRuntime
from tradewind.sdk.sensors.base import PokeReturnValue

START = datetime(2024, 1, 1, tzinfo=UTC)


def _dag() -> DAG:
    return DAG(f"http_{uuid.uuid4().hex[:8]}", schedule=None, start_date=START, params={"path": "echo"})


def test_templated_fields_render_and_the_answer_text_goes_to_xcom(
    base_url: str, runtime: InMemoryRuntime
) -> None:
    with _dag():
        op = HttpOperator(
            task_id="call",
            http_conn_id="api",
            method="GET",
            endpoint="{{ params.path }}",
            data={"day": "{{ ds }}"},
            headers={"X-Run": "{{ run_id }}"},
        )
    assert set(HttpOperator.template_fields) >= {"endpoint", "data", "headers"}
    text = run_task(op, runtime)
    assert isinstance(text, str)
    seen = httpx.Response(200, content=text).json()
    assert seen["path"] == "/echo" and seen["query"] == {"day": "2024-03-05"}
    assert seen["headers"]["x-run"] == "manual__1" and seen["user"] == USER
    assert (
        runtime.xcom_pull(
            dag_id=op.dag.dag_id, run_id="manual__1", task_id="call", key="return_value", map_index=None
        )
        == text
    )


def test_response_filter_value_is_pushed_and_response_check_sees_the_context(
    base_url: str, runtime: InMemoryRuntime
) -> None:
    def check(response: httpx.Response, ds: str) -> bool:
        return bool(response.json()["query"]["day"] == ds)

    with _dag():
        op = HttpOperator(
            task_id="filtered",
            http_conn_id="api",
            method="GET",
            endpoint="echo",
            data={"day": "{{ ds }}"},
            response_check=check,
            response_filter=lambda response: response.json()["query"],
        )
    assert run_task(op, runtime) == {"day": "2024-03-05"}


def test_a_false_response_check_fails_the_task_with_a_clear_message(
    base_url: str, runtime: InMemoryRuntime
) -> None:
    with _dag():
        op = HttpOperator(
            task_id="checked", http_conn_id="api", endpoint="echo", response_check=lambda response: False
        )
    with pytest.raises(
        TaskExecutionError, match=r"Response check returned False \(task 'checked', POST echo"
    ):
        run_task(op, runtime)


def test_an_error_status_fails_the_task(base_url: str, runtime: InMemoryRuntime) -> None:
    with _dag():
        op = HttpOperator(task_id="broken", http_conn_id="api", method="GET", endpoint="status/500")
    with pytest.raises(ExternalSystemError, match=r"^500:Internal Server Error from GET"):
        run_task(op, runtime)


def test_pagination_collects_every_page(base_url: str, runtime: InMemoryRuntime) -> None:
    def next_page(response: httpx.Response) -> dict[str, Any] | None:
        following = response.json()["next"]
        return {"data": {"page": following}} if following else None

    with _dag():
        op = HttpOperator(
            task_id="pages",
            http_conn_id="api",
            method="GET",
            endpoint="items",
            data={"page": 1},
            pagination_function=next_page,
            response_filter=lambda responses: [item for r in responses for item in r.json()["items"]],
        )
        texts = HttpOperator(
            task_id="texts", http_conn_id="api", method="GET", endpoint="items", pagination_function=next_page
        )
    assert run_task(op, runtime) == ITEMS
    assert len(run_task(texts, runtime)) == 3  # the default value: every page's text


def test_retry_args_retry_each_request(
    base_url: str, runtime: InMemoryRuntime, http_service: tuple[str, Counter[str]]
) -> None:
    name = uuid.uuid4().hex
    with _dag():
        op = SimpleHttpOperator(
            task_id="retried",
            http_conn_id="api",
            method="GET",
            endpoint=f"flaky/{name}",
            retry_args={"stop": tenacity.stop_after_attempt(3), "wait": tenacity.wait_none()},
            response_filter=lambda response: response.json()["attempt"],
        )
    assert isinstance(op, HttpOperator)
    assert run_task(op, runtime) == 3 and http_service[1][name] == 3


def test_sensor_waits_through_allowed_error_codes(
    base_url: str, runtime: InMemoryRuntime, http_service: tuple[str, Counter[str]]
) -> None:
    name = uuid.uuid4().hex
    with _dag():
        sensor = HttpSensor(
            task_id="wait",
            http_conn_id="api",
            endpoint=f"flaky/{name}",
            response_error_codes_allowlist=["503"],
            poke_interval=0,
            timeout=30,
        )
        checked = HttpSensor(
            task_id="checked",
            http_conn_id="api",
            endpoint="echo",
            request_params={"day": "{{ ds }}"},
            response_check=lambda response: PokeReturnValue(True, response.json()["query"]["day"]),
            poke_interval=0,
        )
        failing = HttpSensor(task_id="failing", http_conn_id="api", endpoint="status/500", poke_interval=0)
    assert run_task(sensor, runtime) is None
    assert http_service[1][name] == 3  # two "not yet" answers, then success
    assert run_task(checked, runtime) == "2024-03-05"
    with pytest.raises(ExternalSystemError, match=r"^500:"):
        run_task(failing, runtime)


def test_hook_property_builds_the_connection_hook(base_url: str) -> None:
    op = HttpOperator(task_id="x", http_conn_id="api", method="PUT")
    hook = op.hook
    assert isinstance(hook, HttpHook) and hook.method == "PUT" and hook.http_conn_id == "api"


def test_an_https_uri_connection_means_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_SECURE_API", "https://bot:pw@api.example.com:8443")
    hook = HttpOperator(task_id="x", http_conn_id="secure_api").hook
    assert isinstance(hook, HttpHook) and hook.url_from_endpoint("v1") == "https://api.example.com:8443/v1"
