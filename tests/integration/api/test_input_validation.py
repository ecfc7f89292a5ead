"""Input the API must refuse cleanly (a 400 or 422 naming the field, never a 500), and leave unstored: unsafe
run ids, numbers past 64 bits, out-of-range dates, deep conf, coerced JSON types; 405s that say what is
allowed; an OpenAPI document that declares how to authenticate."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.integration.api.conftest import DAG_ID, NOW, Site
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import task_log_path
from tradewind.sdk.errors import RefusedInputError
from tradewind.store import dags, external_runs, pools
from tradewind.store.tables import DagRunModel

BIG = 10**20
RUNS = {"v1": f"/api/v1/dags/{DAG_ID}/dagRuns", "v2": f"/api/v2/dags/{DAG_ID}/dagRuns"}


@pytest.fixture
def op(site: Site) -> Iterator[TestClient]:
    """An op client that gets 500s as responses (the app's real answer), not as raised exceptions."""
    client = TestClient(site.app, raise_server_exceptions=False)
    client.auth = ("op", "op-pass-123")
    with client:
        yield client


@pytest.fixture
def admin(site: Site) -> Iterator[TestClient]:
    client = TestClient(site.app, raise_server_exceptions=False)
    client.auth = ("admin", "admin-pass-1")
    with client:
        yield client


def run_count(site: Site) -> int:
    with site.factory() as session:
        return int(session.scalar(select(func.count()).select_from(DagRunModel)) or 0)


def refused(response: object, field: str, status: int = 400) -> None:
    assert hasattr(response, "status_code") and hasattr(response, "json")
    assert response.status_code == status, response.text
    assert field in response.json()["detail"], response.text


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    "run_id", ["x/../../../../tmp/pwned", "nul\x00byte", "a" * 200_000, "../up", "new\nline"]
)
def test_unsafe_or_oversized_run_ids_are_refused_and_not_stored(
    site: Site, op: TestClient, version: str, run_id: str
) -> None:
    response = op.post(RUNS[version], json={"dag_run_id": run_id, "logical_date": None})
    refused(response, "dag_run_id")
    assert run_count(site) == 0


def test_run_ids_that_keep_the_pattern_are_accepted_and_generated_ones_too(
    site: Site, op: TestClient
) -> None:
    given = op.post(RUNS["v1"], json={"dag_run_id": "manual__2026-03-02T00:00:00+00:00.retry~1"})
    assert given.status_code == 200, given.text
    generated = op.post(RUNS["v2"], json={"logical_date": "2026-03-03T00:00:00Z"})
    assert generated.status_code == 200, generated.text
    assert generated.json()["dag_run_id"] == "manual__2026-03-03T00:00:00+00:00"


def test_the_trigger_form_refuses_an_unsafe_run_id(site: Site) -> None:
    client, csrf = site.login("op")
    response = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"csrf_token": csrf, "mode": "json", "conf_json": "{}", "run_id": "x/../../etc"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 400 and "dag_run_id" in response.text
    assert run_count(site) == 0


def test_a_configured_run_id_pattern_is_applied(site: Site, op: TestClient) -> None:
    site.settings.scheduler.allowed_run_id_pattern = r"^team_[a-z]+$"
    refused(op.post(RUNS["v1"], json={"dag_run_id": "nightly"}), "dag_run_id")
    assert op.post(RUNS["v1"], json={"dag_run_id": "team_data"}).status_code == 200
    # Run ids Tradewind makes itself do not have to match the administrator's pattern.
    assert op.post(RUNS["v1"], json={}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/dags?offset={n}",
        "/api/v1/dags?limit={n}",
        "/api/v2/dags?offset={n}",
        "/api/v2/dags?limit={n}",
        f"/api/v1/dags/{DAG_ID}/dagRuns?offset={{n}}",
        "/api/v1/importErrors/{n}",
        "/api/v2/importErrors/{n}",
        "/api/v2/assets/{n}",
        f"/api/v1/dags/{DAG_ID}/dagRuns/r/taskInstances/extract/{{n}}",
        f"/api/v1/dags/{DAG_ID}/dagRuns/r/taskInstances/extract/logs/{{n}}",
        f"/api/v2/dags/{DAG_ID}/dagRuns/r/taskInstances/extract/logs/{{n}}",
        f"/api/v1/dags/{DAG_ID}/dagRuns/r/taskInstances/extract/xcomEntries?map_index={{n}}",
        "/dags?page={n}",
        f"/dags/{DAG_ID}/runs?page={{n}}",
        f"/dags/{DAG_ID}/runs/r/tasks/extract?map_index={{n}}",
    ],
)
def test_integers_past_64_bits_are_a_bad_request_naming_the_field(admin: TestClient, url: str) -> None:
    response = admin.get(url.format(n=BIG))
    field = url.split("?")[-1].split("=")[0] if "?" in url else None
    assert response.status_code == 400, response.text
    if field:
        assert field in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/v1/pools", "/api/v2/pools"])
def test_pool_slots_past_64_bits_or_not_an_int_are_refused(site: Site, admin: TestClient, url: str) -> None:
    refused(admin.post(url, json={"name": "huge", "slots": BIG}), "slots")
    refused(admin.post(url, json={"name": "flag", "slots": False}), "slots", status=422)
    refused(admin.post(url, json={"name": "text", "slots": "3"}), "slots", status=422)
    with site.factory() as session:
        assert {p.name for p in pools.list_pools(session=session)} == {"default_pool"}


@pytest.mark.parametrize("url", [f"/api/v1/dags/{DAG_ID}", f"/api/v2/dags/{DAG_ID}"])
def test_patching_a_dag_takes_only_a_json_bool(site: Site, admin: TestClient, url: str) -> None:
    refused(admin.patch(url, json={"is_paused": 1}), "is_paused", status=422)
    refused(admin.patch(url, json={"is_paused": "true"}), "is_paused", status=422)
    with site.factory() as session:
        assert dags.get_dag(session=session, dag_id=DAG_ID).is_paused is False
    assert admin.patch(url, json={"is_paused": True}).json()["is_paused"] is True


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("date", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z"])
def test_logical_dates_at_the_ends_of_the_calendar_are_refused(
    site: Site, op: TestClient, version: str, date: str
) -> None:
    refused(op.post(RUNS[version], json={"logical_date": date}), "logical_date")
    assert run_count(site) == 0


def test_the_trigger_form_refuses_an_out_of_range_logical_date(site: Site) -> None:
    client, csrf = site.login("op")
    response = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"csrf_token": csrf, "mode": "json", "conf_json": "{}", "logical_date": "9999-12-31T00:00:00"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 400 and "logical_date" in response.text
    assert run_count(site) == 0


def test_deeply_nested_conf_is_refused_on_the_form_and_the_rest_api(site: Site, op: TestClient) -> None:
    client, csrf = site.login("op")
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    form = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"csrf_token": csrf, "mode": "json", "conf_json": deep},
        headers={"accept": "text/html"},
    )
    assert form.status_code == 400 and "conf_json" in form.text
    nested: object = []
    for _ in range(100):
        nested = [nested]
    for url in RUNS.values():
        refused(op.post(url, json={"conf": {"a": nested}, "logical_date": None}), "conf")
        # Too deep for the JSON parser itself: a bad request before any field is read.
        body = deep.replace('{"a"', '{"conf": {"a"', 1) + "}"
        raw = op.post(url, content=body, headers={"content-type": "application/json"})
        assert raw.status_code == 400, raw.text
    assert run_count(site) == 0


def test_a_log_continuation_offset_past_64_bits_is_refused(site: Site, op: TestClient) -> None:
    run = op.post(RUNS["v1"], json={"dag_run_id": "logged"})
    assert run.status_code == 200
    path = task_log_path(site.settings.base_log_folder, TaskInstanceKey(DAG_ID, "logged", "extract"), 1)
    path.parent.mkdir(parents=True)
    path.write_text("line one\n")
    token = base64.urlsafe_b64encode(json.dumps({"offset": BIG}).encode()).decode()
    for version in ("v1", "v2"):
        url = f"/api/{version}/dags/{DAG_ID}/dagRuns/logged/taskInstances/extract/logs/1?token={token}"
        refused(op.get(url, headers={"accept": "application/json"}), "token")


def test_method_not_allowed_lists_the_methods_the_path_takes(admin: TestClient) -> None:
    response = admin.put(f"/api/v1/dags/{DAG_ID}")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
    page = admin.put("/login", headers={"accept": "text/html"})
    assert page.status_code == 405 and set(page.headers["allow"].split(", ")) == {"GET", "POST"}


def test_the_openapi_document_declares_how_to_authenticate(admin: TestClient) -> None:
    document = admin.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["Basic"] == {"type": "http", "scheme": "basic", "description": "username and password"}
    assert schemes["Bearer"]["scheme"] == "bearer"
    assert schemes["SessionCookie"]["in"] == "cookie"
    assert document["security"] == [{"Basic": []}, {"Bearer": []}, {"SessionCookie": []}]
    paths = document["paths"]
    assert paths["/auth/token"]["post"]["security"] == []
    assert paths["/api/v2/monitor/health"]["get"]["security"] == []
    assert "security" not in paths["/api/v1/dags"]["get"]  # the global requirement applies
    assert "security" not in paths["/api/v1/health"]["get"]  # v1's health asks for a login


def test_trigger_dag_run_operator_run_ids_are_refused_by_the_store(site: Site) -> None:
    """TriggerDagRunOperator's trigger_run_id reaches the store through trigger_or_reset: the task fails."""
    with site.factory() as session, pytest.raises(RefusedInputError, match="dag_run_id"):
        external_runs.trigger_or_reset(
            session=session, dag_id=DAG_ID, run_id="../../../../tmp/pwned", logical_date=None, conf={},
            reset_dag_run=False, triggered_by="task", now=NOW,
        )  # fmt: skip
    assert run_count(site) == 0


@pytest.mark.parametrize(
    ("method", "url", "body", "where"),
    [
        ("get", "/api/v1/dags/a%00b", None, "path"),
        ("get", "/api/v2/dags?dag_id_pattern=a%00b", None, "dag_id_pattern"),
        ("get", "/api/v1/dags?tags=a%00", None, "tags"),
        ("post", "/api/v1/variables", {"key": "a\x00b", "value": "v"}, "key"),
        ("post", "/api/v2/pools", {"name": "p\x00", "slots": 1}, "name"),
        ("post", "/auth/token", {"username": "admin\x00", "password": "x"}, "username"),
    ],
)
def test_nul_characters_are_a_bad_request_on_every_database(
    admin: TestClient, method: str, url: str, body: object, where: str
) -> None:
    """PostgreSQL cannot hold NUL characters: refused at the door, not a driver error deep down."""
    response = admin.request(method, url, json=body)
    refused(response, where)


def test_nul_characters_in_a_form_are_refused_naming_the_field(site: Site) -> None:
    client, csrf = site.login("admin")
    response = client.post(
        "/pools/new",
        data={"csrf_token": csrf, "name": "gpu\x00", "slots": "1"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 400 and "name" in response.text
    huge = client.post(
        "/pools/new",
        data={"csrf_token": csrf, "name": "gpu", "slots": str(BIG)},
        headers={"accept": "text/html"},
    )
    assert huge.status_code == 400 and "slots" in huge.text
