"""Time zones in the UI (the per-user picker, [webserver] default_ui_timezone, the DAG's own zone) and the
DAG list's last-run column and readable schedules."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from tests.integration.api.conftest import DAG_ID, NOW, Site, build_dag, seed_dag
from tradewind.api.app import create_app
from tradewind.config.settings import load_settings
from tradewind.core.states import DagRunState
from tradewind.sdk.errors import ConfigError
from tradewind.sdk.schedules import timetable_from_schedule, timetable_to_dict
from tradewind.store import dag_runs, users
from tradewind.store.engine import transaction

HTML = {"accept": "text/html"}
RUN_TIME = "2026-03-01 12:00:00"  # NOW, the seeded run's logical date, in UTC


def seed_run(site: Site, run_id: str = "scheduled__1", state: DagRunState = DagRunState.SUCCESS) -> None:
    with transaction(site.factory) as session:
        dag_runs.create_dag_run(
            session=session,
            dag_id=DAG_ID,
            run_id=run_id,
            run_type="scheduled",
            logical_date=NOW,
            data_interval=None,
            state=state,
            now=NOW,
        )


def runs_page(client: TestClient, site: Site) -> str:
    return client.get(f"/dags/{DAG_ID}/runs", headers=HTML).text


def test_times_follow_the_zone_each_user_picks(site: Site) -> None:
    seed_run(site)
    viewer, csrf = site.login("viewer")
    assert f"{RUN_TIME} UTC" in runs_page(viewer, site)  # the default zone is UTC

    refused = viewer.post("/preferences/timezone", data={"timezone": "Europe/Paris"})
    assert refused.status_code == 403
    chosen = viewer.post(
        "/preferences/timezone",
        data={"csrf_token": csrf, "timezone": "Europe/Paris", "next": f"/dags/{DAG_ID}/runs"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/dags/{DAG_ID}/runs"
    page = runs_page(viewer, site)
    assert "2026-03-01 13:00:00 CET" in page and f"{RUN_TIME} UTC" not in page
    assert 'data-tz="Europe/Paris"' in page and "<option selected>Europe/Paris</option>" in page

    # Summer time and another user: each sees their own zone; the admin still sees UTC.
    viewer.post("/preferences/timezone", data={"csrf_token": csrf, "timezone": "America/New_York"})
    assert "2026-03-01 07:00:00 EST" in runs_page(viewer, site)
    admin, _ = site.login("admin")
    assert f"{RUN_TIME} UTC" in runs_page(admin, site)
    with site.factory() as session:
        assert users.get_user(session=session, username="viewer").ui_timezone == "America/New_York"

    # Kept server-side: a new session of the same user (another browser) shows the same zone.
    again, _ = site.login("viewer")
    assert "2026-03-01 07:00:00 EST" in runs_page(again, site)

    bad = viewer.post(
        "/preferences/timezone", data={"csrf_token": csrf, "timezone": "Mars/Olympus"}, headers=HTML
    )
    assert bad.status_code == 422 and "IANA" in bad.text
    viewer.post("/preferences/timezone", data={"csrf_token": csrf, "timezone": ""})
    assert f"{RUN_TIME} UTC" in runs_page(viewer, site)


def test_default_ui_timezone_setting(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_run(site)
    monkeypatch.setenv("TRADEWIND__WEBSERVER__DEFAULT_UI_TIMEZONE", "Asia/Kolkata")
    site.app = create_app(load_settings())
    viewer, csrf = site.login("viewer")
    page = runs_page(viewer, site)
    assert "2026-03-01 17:30:00 IST" in page and "Default (Asia/Kolkata)" in page
    viewer.post("/preferences/timezone", data={"csrf_token": csrf, "timezone": "UTC"})
    assert f"{RUN_TIME} UTC" in runs_page(viewer, site)

    monkeypatch.setenv("TRADEWIND__WEBSERVER__DEFAULT_UI_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert refused.value.key == "webserver.default_ui_timezone"
    assert "TRADEWIND__WEBSERVER__DEFAULT_UI_TIMEZONE" in str(refused.value)


def test_dag_page_shows_the_dags_own_zone_and_schedule(site: Site) -> None:
    sdag = build_dag("paris_reports")
    sdag.timetable = timetable_to_dict(timetable_from_schedule("30 6 * * 1-5", "Europe/Paris"))
    sdag.schedule_description = "At 06:30, Monday through Friday"
    seed_dag(site.factory, sdag)
    viewer, _ = site.login("viewer")
    page = viewer.get("/dags/paris_reports", headers=HTML).text
    zone = re.search(r'data-testid="dag-timezone"[^>]*>([^<]+)<', page)
    assert zone is not None and zone.group(1) == "Europe/Paris"
    schedule = re.search(r'data-testid="dag-schedule">(.*?)</span>', page)
    assert schedule is not None
    assert schedule.group(1) == "<code>30 6 * * 1-5</code> At 06:30, Monday through Friday"
    utc_dag = re.search(
        r'data-testid="dag-timezone"[^>]*>([^<]+)<', viewer.get(f"/dags/{DAG_ID}", headers=HTML).text
    )
    assert utc_dag is not None and utc_dag.group(1) == "UTC"


def schedule_cell(page: str, dag_id: str) -> str:
    row = re.search(rf'<tr data-dag-id="{dag_id}">(.*?)</tr>', page, re.S)
    assert row is not None, dag_id
    cell = re.search(r'data-testid="schedule">(.*?)</td>', row.group(1), re.S)
    assert cell is not None
    return re.sub(r"<[^>]+>", "|", cell.group(1)).strip("|")


def test_dag_list_shows_readable_schedules_once(site: Site) -> None:
    for dag_id, schedule in (
        ("weekday_paris", "30 6 * * 1-5"),
        ("six_hourly", timedelta(hours=6)),
        ("daily_preset", "@daily"),
        ("manual_only", None),
    ):
        sdag = build_dag(dag_id)
        timetable = timetable_from_schedule(schedule, "Europe/Paris" if dag_id == "weekday_paris" else "UTC")
        sdag.timetable = timetable_to_dict(timetable)
        sdag.schedule_description = timetable.description
        seed_dag(site.factory, sdag)
    page = site.login("viewer")[0].get("/dags", headers=HTML).text
    weekday = schedule_cell(page, "weekday_paris")
    assert weekday == "30 6 * * 1-5||At 06:30, Monday through Friday (Europe/Paris)"
    assert weekday.count("30 6 * * 1-5") == 1
    assert schedule_cell(page, "six_hourly") == "Every 6 hours"
    assert schedule_cell(page, "daily_preset") == "@daily||At 00:00"
    assert schedule_cell(page, "manual_only") == "Never, external triggers only"


def test_dag_list_last_run_column_links_the_newest_run(site: Site) -> None:
    viewer, csrf = site.login("viewer")
    empty = re.search(
        r'<tr data-dag-id="shop_orders">.*?data-testid="last-run">(.*?)</td>',
        viewer.get("/dags", headers=HTML).text,
        re.S,
    )
    assert empty is not None and empty.group(1) == ""
    seed_run(site, "older", DagRunState.SUCCESS)
    with transaction(site.factory) as session:
        dag_runs.create_dag_run(
            session=session,
            dag_id=DAG_ID,
            run_id="newest",
            run_type="manual",
            logical_date=NOW + timedelta(days=1),
            data_interval=None,
            state=DagRunState.FAILED,
            now=NOW,
        )
    viewer.post("/preferences/timezone", data={"csrf_token": csrf, "timezone": "Asia/Tokyo"})
    page = viewer.get("/dags", headers=HTML).text
    cell = re.search(r'<tr data-dag-id="shop_orders">.*?data-testid="last-run">(.*?)</td>', page, re.S)
    assert cell is not None
    assert f'href="/dags/{DAG_ID}?run_id=newest"' in cell.group(1)
    assert "state-failed" in cell.group(1) and "2026-03-02 21:00:00 JST" in cell.group(1)
