"""Timelines and charts as users read them: the grid's bars, dates, run-state row, mapped counts and cell
details; the JSON feeds of the Gantt, duration charts, calendar and landing times (with ETag/304); and the
pages that draw them."""

from __future__ import annotations

import html
from datetime import timedelta

from tests.integration.api.conftest import DAG_ID, NOW, Site
from tradewind.store.engine import transaction
from tradewind.store.tables import DagRunModel, TaskInstanceHistoryModel, TaskInstanceModel

HTML = {"accept": "text/html"}
TASKS = ("extract", "process.clean", "process.enrich", "load", "notify")


def seed_runs(site: Site) -> None:
    """Three finished daily scheduled runs (the last one still running), each task 10 s after the one
    before; ``load`` of the newest run mapped into three instances; ``extract`` of the first run retried."""
    with transaction(site.factory) as session:
        for day in range(3):
            interval_end = NOW + timedelta(days=day)
            start = interval_end + timedelta(minutes=5 + day)
            running = day == 2
            session.add(
                DagRunModel(
                    dag_id=DAG_ID, run_id=f"scheduled__{day}", run_type="scheduled",
                    state="running" if running else ("failed" if day == 1 else "success"),
                    logical_date=interval_end - timedelta(days=1), data_interval_start=interval_end - timedelta(days=1),
                    data_interval_end=interval_end, queued_at=start - timedelta(seconds=30), start_date=start,
                    end_date=None if running else start + timedelta(seconds=60), conf={},
                )
            )  # fmt: skip
            for i, task_id in enumerate(TASKS):
                indexes = [0, 1, 2] if (task_id == "load" and day == 2) else [-1]
                for index in indexes:
                    t0 = start + timedelta(seconds=10 * i)
                    finished = not (running and i >= 3)
                    session.add(
                        TaskInstanceModel(
                            dag_id=DAG_ID, run_id=f"scheduled__{day}", task_id=task_id, map_index=index,
                            state=("success" if finished else "running") if i < 4 or not running else None,
                            try_number=2 if (day == 0 and task_id == "extract") else 1,
                            queued_at=t0 - timedelta(seconds=2), start_date=t0,
                            end_date=t0 + timedelta(seconds=8) if finished else None,
                            duration=8.0 if finished else None,
                        )
                    )  # fmt: skip
        session.add(
            TaskInstanceHistoryModel(
                dag_id=DAG_ID, run_id="scheduled__0", task_id="extract", map_index=-1, try_number=1,
                state="failed", start_date=NOW - timedelta(seconds=50), end_date=NOW - timedelta(seconds=45),
                duration=5.0,
            )
        )  # fmt: skip


def test_grid_shows_duration_bars_dates_run_states_and_mapped_counts(site: Site) -> None:
    seed_runs(site)
    client, _ = site.login("viewer")
    page = html.unescape(client.get(f"/dags/{DAG_ID}/grid", headers=HTML).text)
    assert page.count('data-testid="run-bar"') == 3
    assert "height: 56px" in page  # the longest run gets the tallest bar
    assert page.count('data-testid="run-date"') == 3 and ">03-01<br>12:00<" in page
    assert page.count('data-testid="run-state-cell"') == 3
    assert 'data-testid="mapped-count" title="mapped task instances in the largest run shown">[3]<' in page
    assert 'data-mapped="3 running"' in page
    assert 'data-try="2"' in page  # the retried extract
    assert 'data-seconds="8.0"' in page and 'data-live-grid="true"' in page
    assert 'id="grid-hover"' in page and 'data-row="1" data-col="0"' in page


def test_gantt_feed_has_queued_time_and_each_try(site: Site) -> None:
    seed_runs(site)
    client, _ = site.login("viewer")
    response = client.get(f"/dags/{DAG_ID}/gantt-data", params={"run_id": "scheduled__0"})
    assert response.status_code == 200 and response.headers["etag"]
    data = response.json()
    assert [r["task_id"] for r in data["rows"]] == list(TASKS)
    extract = data["rows"][0]
    assert [(t["try_number"], t["state"]) for t in extract["tries"]] == [(1, "failed"), (2, "success")]
    assert extract["tries"][0]["duration"] == 5.0 and extract["queued"] is not None
    assert data["run"]["state"] == "success"
    assert client.get(response.url, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    mapped = client.get(f"/dags/{DAG_ID}/gantt-data", params={"run_id": "scheduled__2"}).json()
    assert [r["label"] for r in mapped["rows"] if r["task_id"] == "load"] == [
        "load [0]",
        "load [1]",
        "load [2]",
    ]
    ongoing = next(r for r in mapped["rows"] if r["task_id"] == "load")
    assert ongoing["tries"][0]["ongoing"] is True
    assert client.get(f"/dags/{DAG_ID}/gantt-data", params={"run_id": "nope"}).status_code == 404


def test_duration_feeds(site: Site) -> None:
    seed_runs(site)
    client, _ = site.login("viewer")
    runs = client.get(f"/dags/{DAG_ID}/run-durations-data", params={"limit": 2}).json()["runs"]
    assert [r["run_id"] for r in runs] == ["scheduled__1", "scheduled__2"]  # oldest first
    assert (runs[0]["queued_seconds"], runs[0]["run_seconds"], runs[0]["state"]) == (30.0, 60.0, "failed")
    assert runs[1]["ongoing"] is True
    tasks = client.get(f"/dags/{DAG_ID}/task-durations-data").json()
    assert [r["run_id"] for r in tasks["runs"]] == ["scheduled__0", "scheduled__1", "scheduled__2"]
    assert tasks["tasks"]["extract"] == [8.0, 8.0, 8.0]
    assert tasks["tasks"]["load"] == [8.0, 8.0, None]
    assert client.get(f"/dags/{DAG_ID}/run-durations-data", params={"limit": 0}).status_code == 422


def test_calendar_and_landing_time_feeds(site: Site) -> None:
    seed_runs(site)
    client, _ = site.login("viewer")
    days = {d["date"]: d for d in client.get(f"/dags/{DAG_ID}/calendar-data").json()["days"]}
    assert days["2026-02-28"]["states"] == {"success": 1} and days["2026-03-01"]["state"] == "failed"
    assert days["2026-03-02"]["state"] == "running"
    landing = client.get(f"/dags/{DAG_ID}/landing-times-data").json()["runs"]
    assert [(r["run_id"], r["landing_seconds"]) for r in landing] == [
        ("scheduled__0", 360.0),
        ("scheduled__1", 420.0),
        ("scheduled__2", None),
    ]
    op = site.client()
    op.auth = ("op", "op-pass-123")
    op.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "manual_one"})
    again = client.get(f"/dags/{DAG_ID}/landing-times-data").json()["runs"]
    assert "manual_one" not in [r["run_id"] for r in again]  # manual runs have no interval to land after


def test_chart_pages_name_their_feeds_and_follow_unfinished_runs(site: Site) -> None:
    seed_runs(site)
    client, _ = site.login("viewer")
    pages = {
        f"/dags/{DAG_ID}/gantt?run_id=scheduled__2": ["gantt-data?run_id=scheduled__2"],
        f"/dags/{DAG_ID}/durations?limit=10": ["run-durations-data?limit=10", "task-durations-data?limit=10"],
        f"/dags/{DAG_ID}/calendar": ["calendar-data"],
        f"/dags/{DAG_ID}/landing-times": ["landing-times-data?limit=25"],
    }
    for url, feeds in pages.items():
        page = html.unescape(client.get(url, headers=HTML).text)
        for feed in feeds:
            assert f'data-url="/dags/{DAG_ID}/{feed}"' in page, url
        assert "data-live-key=" in page and "/static/charts.js" in page, url
    gantt = html.unescape(client.get(f"/dags/{DAG_ID}/gantt?run_id=scheduled__0", headers=HTML).text)
    assert 'data-live-key=\'["tasks"' not in gantt  # a finished run is drawn once
    assert client.get(f"/dags/{DAG_ID}/durations?limit=400", headers=HTML).status_code == 422
    anonymous = site.client()
    for url in [f"/dags/{DAG_ID}/gantt-data?run_id=scheduled__0", f"/dags/{DAG_ID}/calendar-data"]:
        assert anonymous.get(url).status_code == 401
