"""/api/v2 (Airflow 3's public API shapes) in-process: the parts Airflow's clients do not reach, such as
refusals that must change nothing, the open health and version endpoints, and v1's schedule objects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.integration.api.conftest import DAG_ID, PASSWORDS, Site
from tradewind.core.clock import utcnow
from tradewind.store import jobs
from tradewind.store.tables import DagRunModel


def run_count(site: Site) -> int:
    with site.factory() as session:
        return int(session.scalar(select(func.count()).select_from(DagRunModel)) or 0)


def test_health_and_version_are_open_as_in_airflow_but_dags_need_a_login(site: Site) -> None:
    client = site.client()
    health = client.get("/api/v2/monitor/health")
    assert health.status_code == 200
    assert health.json()["metadatabase"] == {"status": "healthy"}
    assert health.json()["triggerer"]["status"] is None  # no triggerer ever ran
    # A triggerer that heartbeats makes it healthy; one that stopped, unhealthy.
    with site.factory() as session, session.begin():
        job_id = jobs.register_job(session=session, job_type="triggerer", hostname="h", pid=1, executor=None,
                                   now=utcnow())  # fmt: skip
    assert client.get("/api/v2/monitor/health").json()["triggerer"]["status"] == "healthy"
    assert client.get("/health", headers={"Accept": "application/json"}).json()["triggerer"]["status"] == "healthy"
    with site.factory() as session, session.begin():
        jobs.job_heartbeat(session=session, job_id=job_id, now=utcnow() - timedelta(hours=1))
    assert client.get("/api/v2/monitor/health").json()["triggerer"]["status"] == "unhealthy"
    assert client.get("/api/v2/version").json()["version"]
    assert client.get(f"/api/v2/dags/{DAG_ID}").status_code == 401


def test_dag_and_run_bodies_carry_airflow_3_fields(site: Site) -> None:
    client = site.client()
    client.auth = ("op", PASSWORDS["op"])
    dag = client.get(f"/api/v2/dags/{DAG_ID}").json()
    assert dag["timetable_summary"] == "0 6 * * *" and dag["timetable_periodic"] is True
    assert dag["is_stale"] is False and dag["tags"][0] == {
        "name": "shop",
        "dag_id": DAG_ID,
        "dag_display_name": DAG_ID,
    }
    run = client.post(f"/api/v2/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1", "logical_date": None})
    assert run.status_code == 200, run.text
    body = run.json()
    assert (
        body["run_type"] == "manual" and body["triggering_user_name"] == "op" and body["dag_versions"] == []
    )
    assert body["logical_date"] is not None and body["run_after"] == body["logical_date"]
    tis = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/r1/taskInstances").json()
    assert tis["total_entries"] == 5
    assert {ti["run_after"] for ti in tis["task_instances"]} == {body["run_after"]}
    assert len({ti["id"] for ti in tis["task_instances"]}) == 5
    assert client.get("/api/v2/dags/~/dagRuns/~/taskInstances").json()["total_entries"] == 5


def test_requests_tradewind_cannot_honour_are_refused_and_change_nothing(site: Site) -> None:
    client = site.client()
    client.auth = ("admin", PASSWORDS["admin"])
    interval = client.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns", json={"data_interval_start": "2026-01-01T00:00:00Z"}
    )
    assert interval.status_code == 422 and "data_interval_start" in interval.json()["detail"]
    assert run_count(site) == 0

    no_run = client.post(f"/api/v2/dags/{DAG_ID}/clearTaskInstances", json={"dry_run": False})
    assert no_run.status_code == 422 and "dag_run_id" in no_run.json()["detail"]
    past = client.post(
        f"/api/v1/dags/{DAG_ID}/clearTaskInstances",
        json={"dag_run_id": "x", "task_ids": ["load"], "include_past": True},
    )
    assert past.status_code == 422 and "include_past" in past.json()["detail"]

    mask = client.patch(f"/api/v2/dags/{DAG_ID}?update_mask=description", json={"is_paused": True})
    assert mask.status_code == 422 and "is_paused" in mask.json()["detail"]
    assert client.get(f"/api/v2/dags/{DAG_ID}").json()["is_paused"] is False

    unlimited = client.post("/api/v2/pools", json={"name": "big", "slots": -1})
    assert unlimited.status_code == 422
    assert client.get("/api/v2/pools/big").status_code == 404


def test_api_v1_sends_schedules_as_airflow_2_objects(site: Site) -> None:
    client = site.client()
    client.auth = ("viewer", PASSWORDS["viewer"])
    dag = client.get(f"/api/v1/dags/{DAG_ID}").json()
    assert dag["schedule_interval"] == {"__type": "CronExpression", "value": "0 6 * * *"}
    assert dag["timetable_description"] == "At 06:00"
    assert dag["is_subdag"] is False and dag["dag_display_name"] == DAG_ID
