"""Task instances through the REST API: list, mark, clear with downstream, XComs, and following logs."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tests.integration.api.conftest import DAG_ID, Site
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path
from tradewind.store import task_instances, xcom
from tradewind.store.engine import transaction

BASE = f"/api/v1/dags/{DAG_ID}/dagRuns/r1"


def op_client(site: Site) -> TestClient:
    client = site.client()
    client.auth = ("op", "op-pass-123")
    assert client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"}).status_code == 200
    return client


def states(site: Site) -> dict[str, str | None]:
    with site.factory() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=DAG_ID, run_id="r1")
        return {ti.task_id: ti.state for ti in tis}


def test_list_get_and_filter_by_state(site: Site) -> None:
    client = op_client(site)
    listed = client.get(BASE + "/taskInstances").json()
    assert listed["total_entries"] == 5
    assert {t["task_id"] for t in listed["task_instances"]} == {
        "extract",
        "process.clean",
        "process.enrich",
        "load",
        "notify",
    }
    one = client.get(BASE + "/taskInstances/load").json()
    assert one["dag_run_id"] == "r1" and one["state"] is None and one["map_index"] == -1
    assert client.get(BASE + "/taskInstances?state=none&limit=2").json()["total_entries"] == 5
    assert client.get(BASE + "/taskInstances?state=success").json()["total_entries"] == 0
    assert client.get(BASE + "/taskInstances?state=sideways").status_code == 422
    assert client.get(BASE + "/taskInstances/nope").status_code == 404
    assert client.get(f"/api/v1/dags/{DAG_ID}/dagRuns/missing/taskInstances").status_code == 404


def test_mark_then_clear_with_downstream(site: Site) -> None:
    client = op_client(site)
    for task_id in ("extract", "process.clean", "process.enrich", "load"):
        marked = client.patch(BASE + f"/taskInstances/{task_id}", json={"new_state": "success"})
        assert marked.status_code == 200, marked.text
    assert states(site)["load"] == "success"

    dry = client.post(
        f"/api/v1/dags/{DAG_ID}/clearTaskInstances",
        json={
            "dag_run_id": "r1",
            "task_ids": ["process.enrich"],
            "include_downstream": True,
            "dry_run": True,
        },
    )
    assert [t["task_id"] for t in dry.json()["task_instances"]] == ["process.enrich", "load"]
    assert states(site)["process.enrich"] == "success"

    done = client.post(
        f"/api/v1/dags/{DAG_ID}/clearTaskInstances",
        json={
            "dag_run_id": "r1",
            "task_ids": ["process.enrich"],
            "include_downstream": True,
            "dry_run": False,
        },
    )
    assert done.status_code == 200
    after = states(site)
    assert after["process.enrich"] is None and after["load"] is None
    assert after["extract"] == "success" and after["process.clean"] == "success"

    unknown = client.post(
        f"/api/v1/dags/{DAG_ID}/clearTaskInstances",
        json={"dag_run_id": "r1", "task_ids": ["ghost"], "dry_run": False},
    )
    assert unknown.status_code == 404 and "ghost" in unknown.json()["detail"]
    bad_state = client.patch(BASE + "/taskInstances/extract", json={"new_state": "running"})
    assert bad_state.status_code == 422


def test_xcom_entries(site: Site) -> None:
    client = op_client(site)
    with transaction(site.factory) as session:
        xcom.set_xcom(session=session, dag_id=DAG_ID, run_id="r1", task_id="extract", value={"rows": 42})
    listed = client.get(BASE + "/taskInstances/extract/xcomEntries").json()
    assert listed["total_entries"] == 1 and listed["xcom_entries"][0]["key"] == "return_value"
    one = client.get(BASE + "/taskInstances/extract/xcomEntries/return_value").json()
    assert one["value"] == {"rows": 42}
    assert client.get(BASE + "/taskInstances/extract/xcomEntries/other").status_code == 404


def write_log(site: Site, text: str, try_number: int = 1) -> Path:
    key = TaskInstanceKey(DAG_ID, "r1", "extract")
    path = site.settings.base_log_folder / log_relative_path(key, try_number)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_log_follows_with_a_continuation_token_until_the_try_ends(site: Site) -> None:
    client = op_client(site)
    with transaction(site.factory) as session:
        ti = task_instances.get_task_instance(session=session, key=TaskInstanceKey(DAG_ID, "r1", "extract"))
        ti.try_number, ti.state = 1, "running"
    write_log(site, "2026-03-01T12:00:00Z first line\n")
    first = client.get(BASE + "/taskInstances/extract/logs/1").json()
    assert first["content"] == "2026-03-01T12:00:00Z first line\n" and first["end_of_log"] is False

    write_log(site, "2026-03-01T12:00:01Z second line ✓\n")
    second = client.get(BASE + f"/taskInstances/extract/logs/1?token={first['continuation_token']}").json()
    assert second["content"] == "2026-03-01T12:00:01Z second line ✓\n"

    client.patch(BASE + "/taskInstances/extract", json={"new_state": "success"})
    third = client.get(BASE + f"/taskInstances/extract/logs/1?token={second['continuation_token']}").json()
    assert third["content"] == "" and third["end_of_log"] is True

    full = client.get(
        BASE + "/taskInstances/extract/logs/1?full_content=true", headers={"accept": "text/plain"}
    )
    assert full.text.count("line") == 2
    assert client.get(BASE + "/taskInstances/extract/logs/2").status_code == 404
    assert client.get(BASE + "/taskInstances/extract/logs/1?token=%%%").status_code == 422


def test_log_paths_cannot_escape_the_log_folder(site: Site) -> None:
    client = op_client(site)
    escaped = client.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/..%2F..%2F..%2Fetc/logs/1")
    assert escaped.status_code == 404
