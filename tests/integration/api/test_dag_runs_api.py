"""Triggering and changing DAG runs through the REST API, and bad input that must change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.integration.api.conftest import DAG_ID, Site
from tradewind.store import audit, dag_runs, task_instances
from tradewind.store.tables import DagRunModel


def run_count(site: Site) -> int:
    with site.factory() as session:
        return int(session.scalar(select(func.count()).select_from(DagRunModel)) or 0)


def test_trigger_creates_a_queued_run_with_its_task_instances_and_an_audit_entry(site: Site) -> None:
    client, csrf = site.login("op")
    response = client.post(
        f"/api/v1/dags/{DAG_ID}/dagRuns",
        json={"dag_run_id": "nightly_fix", "conf": {"count": 5}, "logical_date": "2026-03-02T00:00:00Z"},
        headers={"x-csrf-token": csrf},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dag_run_id"] == "nightly_fix"
    assert body["state"] == "queued"
    assert body["conf"] == {"count": 5}
    assert body["logical_date"].startswith("2026-03-02T00:00:00")
    assert body["run_type"] == "manual" and body["triggered_by"] == "op"
    with site.factory() as session:
        tis, total = task_instances.list_task_instances(session=session, dag_id=DAG_ID, run_id="nightly_fix")
        assert total == 5 and all(ti.state is None for ti in tis)
        entries, _ = audit.list_audit(session=session, event="trigger")
        assert entries[0].owner == "op" and entries[0].run_id == "nightly_fix"

    listed = client.get(f"/api/v1/dags/{DAG_ID}/dagRuns").json()
    assert listed["total_entries"] == 1 and listed["dag_runs"][0]["dag_run_id"] == "nightly_fix"
    assert client.get("/api/v1/dags/~/dagRuns").json()["total_entries"] == 1


def test_trigger_with_a_duplicate_run_id_is_a_conflict(site: Site) -> None:
    client = site.client()
    client.auth = ("op", "op-pass-123")
    assert client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "once"}).status_code == 200
    again = client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "once"})
    assert again.status_code == 409
    assert "once" in again.json()["detail"]
    assert run_count(site) == 1


def test_bad_trigger_requests_are_clear_errors_that_change_nothing(site: Site) -> None:
    client = site.client()
    client.auth = ("op", "op-pass-123")
    url = f"/api/v1/dags/{DAG_ID}/dagRuns"

    malformed = client.post(url, content=b'{"conf": {"count": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert set(malformed.json()) == {"title", "status", "detail"} and "JSON" in malformed.json()["detail"]

    unknown = client.post("/api/v1/dags/no_such_dag/dagRuns", json={"conf": {}})
    assert unknown.status_code == 404 and "no_such_dag" in unknown.json()["detail"]

    invalid = client.post(url, json={"conf": {"count": 0}})
    assert invalid.status_code == 422 and "count" in invalid.json()["detail"]

    wrong_type = client.post(url, json={"conf": {"count": "many"}})
    assert wrong_type.status_code == 422

    not_an_object = client.post(url, json={"conf": [1, 2]})
    assert not_an_object.status_code == 422 and "conf" in not_an_object.json()["detail"]

    unknown_field = client.post(url, json={"conf": {}, "surprise": 1})
    assert unknown_field.status_code == 422

    oversized = client.post(
        url, json={"conf": {"blob": "x" * (site.settings.webserver.max_request_bytes + 10)}}
    )
    assert oversized.status_code == 413 and "max_request_bytes" in oversized.json()["detail"]

    assert run_count(site) == 0


def test_patch_state_marks_the_run_and_its_unfinished_tasks(site: Site) -> None:
    client = site.client()
    client.auth = ("op", "op-pass-123")
    client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"})
    response = client.patch(f"/api/v1/dags/{DAG_ID}/dagRuns/r1", json={"state": "success"})
    assert response.status_code == 200 and response.json()["state"] == "success"
    with site.factory() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=DAG_ID, run_id="r1")
        assert {ti.state for ti in tis} == {"success"}
    bad = client.patch(f"/api/v1/dags/{DAG_ID}/dagRuns/r1", json={"state": "exploded"})
    assert bad.status_code == 422


def test_clear_run_dry_run_lists_and_clear_requeues(site: Site) -> None:
    client = site.client()
    client.auth = ("op", "op-pass-123")
    client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"})
    client.patch(f"/api/v1/dags/{DAG_ID}/dagRuns/r1", json={"state": "failed"})
    client.patch(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/extract", json={"new_state": "failed"})

    dry = client.post(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/clear", json={"dry_run": True, "only_failed": True})
    assert dry.status_code == 200
    assert [t["task_id"] for t in dry.json()["task_instances"]] == ["extract"]
    with site.factory() as session:
        assert dag_runs.get_dag_run(session=session, dag_id=DAG_ID, run_id="r1").state == "failed"

    done = client.post(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/clear", json={"dry_run": False})
    assert done.status_code == 200 and done.json()["state"] == "queued"
    with site.factory() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=DAG_ID, run_id="r1")
        assert {ti.state for ti in tis} == {None}
