"""Every route family of the REST API and the UI, called anonymously and as viewer, op and admin.

On SQLite only: who may call what does not depend on the database. The routes' queries are covered on
PostgreSQL by each resource's own API tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.api.conftest import DAG_ID, NOW, Site, build_dag, seed_dag
from tradewind.core.states import DagRunType
from tradewind.store import import_errors, pools, variables, xcom
from tradewind.store import new_runs as run_creation
from tradewind.store.engine import transaction

RUN_ID = "manual__seeded"
RANK = {"anonymous": -1, "viewer": 0, "op": 1, "admin": 2}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    needs: str  # the lowest role allowed
    body: dict[str, Any] | None = None
    ok: int = 200
    ui: bool = False  # a page or form: anonymous browsers are sent to the login page


T = f"/api/v1/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances/extract"
T2 = f"/api/v2/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances/extract"
U = f"/dags/{DAG_ID}"
CASES: list[Case] = [
    # REST API: reads
    Case("GET", "/api/v1/dags", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}/details", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}/tasks", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}/source", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}/dagRuns", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}/dagRuns/{RUN_ID}", "viewer"),
    Case("GET", f"/api/v1/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances", "viewer"),
    Case("GET", T, "viewer"),
    Case("GET", T + "/logs/1", "viewer"),
    Case("GET", T + "/xcomEntries", "viewer"),
    Case("GET", T + "/xcomEntries/return_value", "viewer"),
    Case("GET", "/api/v1/variables", "viewer"),
    Case("GET", "/api/v1/variables/region", "viewer"),
    Case("GET", "/api/v1/pools", "viewer"),
    Case("GET", "/api/v1/pools/default_pool", "viewer"),
    Case("GET", "/api/v1/importErrors", "viewer"),
    Case("GET", "/api/v1/eventLogs", "viewer"),
    Case("GET", "/api/v1/health", "viewer"),
    Case("GET", "/api/v1/version", "viewer"),
    Case("GET", "/api/v1/openapi.json", "viewer"),
    Case("GET", "/api/v1/ui", "viewer"),
    # REST API: actions
    Case("PATCH", f"/api/v1/dags/{DAG_ID}", "op", {"is_paused": True}),
    Case("POST", f"/api/v1/dags/{DAG_ID}/dagRuns", "op", {"conf": {"count": 2}}),
    Case("POST", f"/api/v1/dags/{DAG_ID}/dagRuns/{RUN_ID}/clear", "op", {"dry_run": True}),
    Case("PATCH", T, "op", {"new_state": "success"}),
    Case(
        "POST",
        f"/api/v1/dags/{DAG_ID}/clearTaskInstances",
        "op",
        {"dag_run_id": RUN_ID, "task_ids": ["extract"]},
    ),
    Case("PATCH", f"/api/v1/dags/{DAG_ID}/dagRuns/{RUN_ID}", "op", {"state": "failed"}),
    Case("POST", "/api/v1/variables", "admin", {"key": "new_var", "value": "1"}),
    Case("PATCH", "/api/v1/variables/region", "admin", {"value": "eu-west-1"}),
    Case("DELETE", "/api/v1/variables/to_delete", "admin", ok=204),
    Case("POST", "/api/v1/pools", "admin", {"name": "gpu", "slots": 2}),
    Case("PATCH", "/api/v1/pools/default_pool", "admin", {"slots": 64}),
    Case("DELETE", "/api/v1/pools/doomed_pool", "admin", ok=204),
    Case("DELETE", "/api/v1/dags/doomed_dag", "admin", ok=204),
    # REST API v2 (Airflow 3 shapes); /api/v2/monitor/health and /api/v2/version are open, as Airflow's
    Case("GET", "/api/v2/dags", "viewer"),
    Case("GET", f"/api/v2/dags/{DAG_ID}", "viewer"),
    Case("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", "viewer"),
    Case("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{RUN_ID}", "viewer"),
    Case("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances", "viewer"),
    Case("GET", T2, "viewer"),
    Case("GET", T2 + "/logs/1", "viewer"),
    Case("GET", "/api/v2/importErrors", "viewer"),
    Case("GET", "/api/v2/variables", "viewer"),
    Case("GET", "/api/v2/variables/region", "viewer"),
    Case("GET", "/api/v2/pools", "viewer"),
    Case("GET", "/api/v2/pools/default_pool", "viewer"),
    Case("PATCH", f"/api/v2/dags/{DAG_ID}", "op", {"is_paused": True}),
    Case("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", "op", {"dag_run_id": "v2_run", "logical_date": None}),
    Case("POST", f"/api/v2/dags/{DAG_ID}/dagRuns/{RUN_ID}/clear", "op", {"dry_run": True}),
    Case(
        "POST",
        f"/api/v2/dags/{DAG_ID}/clearTaskInstances",
        "op",
        {"dag_run_id": RUN_ID, "task_ids": ["extract"]},
    ),
    Case("POST", "/api/v2/variables", "admin", {"key": "v2_var", "value": "1"}, ok=201),
    Case("PATCH", "/api/v2/variables/region", "admin", {"key": "region", "value": "eu-north-1"}),
    Case("DELETE", "/api/v2/variables/to_delete_v2", "admin", ok=204),
    Case("GET", "/api/v1/connections", "op"),
    Case("GET", "/api/v2/connections", "op"),
    Case("POST", "/api/v2/pools", "admin", {"name": "gpu_v2", "slots": 2}, ok=201),
    Case("PATCH", "/api/v2/pools/default_pool", "admin", {"slots": 32}),
    Case("DELETE", "/api/v2/pools/doomed_pool_v2", "admin", ok=204),
    # UI pages
    Case("GET", "/dags", "viewer", ui=True),
    Case("GET", U, "viewer", ui=True),
    Case("GET", U + "/grid", "viewer", ui=True),
    Case("GET", U + "/runs", "viewer", ui=True),
    Case("GET", U + "/code", "viewer", ui=True),
    Case("GET", U + "/details", "viewer", ui=True),
    Case("GET", U + f"/graph-data?run_id={RUN_ID}", "viewer"),
    Case("GET", U + f"/runs/{RUN_ID}/states", "viewer"),
    Case("GET", U + f"/runs/{RUN_ID}/tasks/extract", "viewer", ui=True),
    Case("GET", "/import-errors", "viewer", ui=True),
    Case("GET", "/variables", "viewer", ui=True),
    Case("GET", "/pools", "viewer", ui=True),
    Case("GET", "/audit-log", "viewer", ui=True),
    Case("GET", U + "/trigger", "op", ui=True),
    Case("GET", "/variables/new", "admin", ui=True),
    Case("GET", "/connections", "op", ui=True),
    Case("GET", "/connections/new?conn_type=http", "op", ui=True),
    Case("GET", "/pools/new", "admin", ui=True),
    # UI forms (the first post of an action shows its confirmation page)
    Case("POST", U + "/pause", "op", {"is_paused": "false"}, ok=303, ui=True),
    Case("POST", U + f"/runs/{RUN_ID}/clear", "op", {}, ui=True),
    Case("POST", U + f"/runs/{RUN_ID}/tasks/extract/mark", "op", {"state": "failed"}, ui=True),
    Case("POST", U + "/trigger", "op", {"mode": "json", "conf_json": "{}"}, ok=303, ui=True),
    Case("POST", "/variables/new", "admin", {"key": "ui_var", "value": "v"}, ok=303, ui=True),
    Case("POST", "/pools/new", "admin", {"name": "ui_pool", "slots": "3"}, ok=303, ui=True),
    Case("POST", U + "/delete", "admin", {}, ui=True),
]


def seed_resources(site: Site) -> None:
    seed_dag(site.factory, build_dag("doomed_dag"))
    with transaction(site.factory) as session:
        run_creation.create_run(
            session=session,
            sdag=build_dag(),
            run_type=DagRunType.MANUAL,
            logical_date=NOW,
            data_interval=None,
            now=NOW,
            run_id=RUN_ID,
        )
        xcom.set_xcom(
            session=session, dag_id=DAG_ID, run_id=RUN_ID, task_id="extract", value={"rows": 3}, now=NOW
        )
        variables.set_variable(session=session, key="region", value="eu-central-1")
        variables.set_variable(session=session, key="to_delete", value="x")
        pools.set_pool(session=session, name="doomed_pool", slots=1)
        variables.set_variable(session=session, key="to_delete_v2", value="x")
        pools.set_pool(session=session, name="doomed_pool_v2", slots=1)
        import_errors.record_import_error(
            session=session,
            filename="/dags/broken.py",
            lineno=3,
            message="SyntaxError: invalid syntax",
            now=NOW,
        )


def call(client: TestClient, case: Case, csrf: str | None) -> int:
    headers = {"accept": "text/html"} if case.ui else {"accept": "application/json"}
    if case.method == "GET" or case.method == "DELETE":
        if csrf and case.method == "DELETE":
            headers["x-csrf-token"] = csrf
        return client.request(case.method, case.path, headers=headers, follow_redirects=False).status_code
    if case.ui:
        data = dict(case.body or {})
        if csrf:
            data["csrf_token"] = csrf
        return client.post(case.path, data=data, headers=headers, follow_redirects=False).status_code
    if csrf:
        headers["x-csrf-token"] = csrf
    return client.request(
        case.method, case.path, json=case.body, headers=headers, follow_redirects=False
    ).status_code


def expected(case: Case, role: str) -> int:
    if role == "anonymous":
        return 303 if case.ui and case.method == "GET" else 401
    return case.ok if RANK[role] >= RANK[case.needs] else 403


@ON_SQLITE_ONLY
@pytest.mark.parametrize("role", ["anonymous", "viewer", "op", "admin"])
def test_every_route_family_admits_exactly_the_roles_allowed(site: Site, role: str) -> None:
    seed_resources(site)
    if role == "anonymous":
        client, csrf = site.client(), None
    else:
        client, csrf = site.login(role)
    wrong = []
    for case in CASES:
        status = call(client, case, csrf)
        if status != expected(case, role):
            wrong.append(f"{case.method} {case.path}: got {status}, want {expected(case, role)}")
    assert not wrong, "\n".join(wrong)


@ON_SQLITE_ONLY
@pytest.mark.parametrize("role", ["viewer", "op", "admin"])
def test_http_basic_gets_the_same_answers_as_a_session(site: Site, role: str) -> None:
    seed_resources(site)
    client = site.client()
    client.auth = (role, {"viewer": "viewer-pass-1", "op": "op-pass-123", "admin": "admin-pass-1"}[role])
    wrong = []
    for case in CASES:
        if case.ui and case.method != "GET":
            continue  # forms are for browsers; API clients use the JSON routes
        status = call(client, case, None)
        want = expected(case, role)
        if status != want:
            wrong.append(f"{case.method} {case.path}: got {status}, want {want}")
    assert not wrong, "\n".join(wrong)


def test_health_is_open_to_anyone(site: Site) -> None:
    response = site.client().get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["metadatabase"]["status"] == "healthy"
    assert body["scheduler"]["status"] == "unhealthy"  # no scheduler heartbeats in this test
    page = site.client().get("/health", headers={"accept": "text/html"})
    assert page.status_code == 200 and "Metadata database" in page.text
