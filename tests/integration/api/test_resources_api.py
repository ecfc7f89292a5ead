"""Variables (secret-looking values masked), pools, import errors, event logs, version and OpenAPI."""

from __future__ import annotations

from tests.integration.api.conftest import NOW, Site
from tradewind.store import import_errors, variables
from tradewind.store.engine import transaction


def admin(site: Site):  # type: ignore[no-untyped-def]
    client = site.client()
    client.auth = ("admin", "admin-pass-1")
    return client


def test_variables_crud_and_secret_values_never_leave_the_server(site: Site) -> None:
    client = admin(site)
    assert (
        client.post("/api/v1/variables", json={"key": "db_password", "value": "hunter2-secret"}).status_code
        == 200
    )
    assert client.post("/api/v1/variables", json={"key": "region", "value": "eu"}).status_code == 200
    assert (
        client.post(
            "/api/v1/variables", json={"key": "settings", "value": '{"host": "db", "api_key": "k-123"}'}
        ).status_code
        == 200
    )
    assert client.post("/api/v1/variables", json={"key": "region", "value": "us"}).status_code == 409

    listed = client.get("/api/v1/variables").json()
    values = {v["key"]: v["value"] for v in listed["variables"]}
    assert values["db_password"] == "***" and values["region"] == "eu"
    assert "k-123" not in values["settings"] and '"host": "db"' in values["settings"]
    assert client.get("/api/v1/variables/db_password").json()["value"] == "***"
    page = client.get("/variables", headers={"accept": "text/html"}).text
    assert "hunter2-secret" not in page and "k-123" not in page and "eu" in page
    edit = client.get("/variables/db_password/edit", headers={"accept": "text/html"}).text
    assert "hunter2-secret" not in edit

    assert client.patch("/api/v1/variables/region", json={"value": "us"}).json()["value"] == "us"
    assert client.patch("/api/v1/variables/region", json={"key": "other", "value": "x"}).status_code == 422
    assert client.delete("/api/v1/variables/region").status_code == 204
    assert client.get("/api/v1/variables/region").status_code == 404
    with site.factory() as session:
        assert variables.get_variable(session=session, key="db_password").val == "hunter2-secret"
    events = client.get("/api/v1/eventLogs?event=variable_create").json()
    assert events["total_entries"] == 3 and "hunter2" not in str(events)


def test_editing_a_masked_variable_in_the_ui_keeps_its_value_unless_replaced(site: Site) -> None:
    client, csrf = site.login("admin")
    with transaction(site.factory) as session:
        variables.set_variable(session=session, key="api_token", value="original")
    kept = client.post(
        "/variables/api_token/edit",
        data={"value": "", "keep_value": "1", "description": "d", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert kept.status_code == 303
    with site.factory() as session:
        assert variables.get_variable(session=session, key="api_token").val == "original"
    client.post("/variables/api_token/edit", data={"value": "rotated", "keep_value": "1", "csrf_token": csrf})
    with site.factory() as session:
        assert variables.get_variable(session=session, key="api_token").val == "rotated"


def test_pools_crud(site: Site) -> None:
    client = admin(site)
    created = client.post("/api/v1/pools", json={"name": "gpu", "slots": 2, "description": "GPUs"})
    assert created.status_code == 200 and created.json()["open_slots"] == 2
    assert client.post("/api/v1/pools", json={"name": "gpu", "slots": 3}).status_code == 409
    assert client.post("/api/v1/pools", json={"name": "neg", "slots": -1}).status_code == 422
    assert client.patch("/api/v1/pools/gpu", json={"slots": 4}).json()["slots"] == 4
    names = [p["name"] for p in client.get("/api/v1/pools").json()["pools"]]
    assert names == ["default_pool", "gpu"]
    assert client.delete("/api/v1/pools/default_pool").status_code == 409
    assert client.delete("/api/v1/pools/gpu").status_code == 204
    assert client.get("/api/v1/pools/gpu").status_code == 404


def test_import_errors_version_and_openapi(site: Site) -> None:
    with transaction(site.factory) as session:
        import_errors.record_import_error(
            session=session,
            filename="/dags/broken.py",
            lineno=7,
            message="NameError: name 'x' is not defined",
            now=NOW,
        )
    client = admin(site)
    listed = client.get("/api/v1/importErrors").json()
    assert listed["total_entries"] == 1
    error = listed["import_errors"][0]
    assert error["filename"] == "/dags/broken.py" and error["lineno"] == 7
    assert (
        client.get(f"/api/v1/importErrors/{error['import_error_id']}")
        .json()["message"]
        .startswith("NameError")
    )
    assert client.get("/api/v1/importErrors/999").status_code == 404
    assert client.get("/api/v1/version").json()["version"]
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/dags/{dag_id}/dagRuns" in paths and "post" in paths["/api/v1/dags/{dag_id}/dagRuns"]
    assert not any(p.startswith("/dags") for p in paths), "UI pages stay out of the API document"
    docs = client.get("/api/v1/ui").text
    assert "/api/v1/dags/{dag_id}/dagRuns" in docs and "cdn" not in docs.lower()


def test_lists_page_with_limit_and_offset(site: Site) -> None:
    client = admin(site)
    for i in range(5):
        client.post("/api/v1/variables", json={"key": f"v{i}", "value": str(i)})
    page = client.get("/api/v1/variables?limit=2&offset=2").json()
    assert page["total_entries"] == 5 and [v["key"] for v in page["variables"]] == ["v2", "v3"]
    assert client.get("/api/v1/variables?limit=0").status_code == 422
