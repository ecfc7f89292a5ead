"""A sensor up for reschedule as users see it: the task page lists its reschedules, the API says
``up_for_reschedule``."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.api.conftest import DAG_ID, NOW, Site
from tradewind.core.keys import TaskInstanceKey
from tradewind.store import task_instances, task_reschedules
from tradewind.store.engine import transaction

HTML = {"accept": "text/html"}


def test_task_page_lists_reschedules_and_the_api_shows_the_state(site: Site) -> None:
    client, _ = site.login("viewer")
    op = site.client()
    op.auth = ("op", "op-pass-123")
    op.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"})
    key = TaskInstanceKey(DAG_ID, "r1", "extract")
    with transaction(site.factory) as session:
        ti = task_instances.get_task_instance(session=session, key=key)
        ti.try_number, ti.state, ti.next_poke_at = 1, "up_for_reschedule", NOW + timedelta(minutes=3)
        for i in range(2):
            start = NOW + timedelta(minutes=i)
            task_reschedules.record_reschedule(
                session=session, key=key, try_number=1, start_date=start, end_date=start + timedelta(seconds=2),
                reschedule_date=start + timedelta(minutes=1),
            )  # fmt: skip
    page = client.get(f"/dags/{DAG_ID}/runs/r1/tasks/extract", headers=HTML).text
    assert 'data-testid="reschedules"' in page and 'data-testid="next-poke"' in page
    assert page.count("<tr><td>1</td>") == 2
    body = op.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/extract").json()
    assert (body["state"], body["try_number"]) == ("up_for_reschedule", 1)
    listed = op.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances", params={"state": "up_for_reschedule"})
    assert [t["task_id"] for t in listed.json()["task_instances"]] == ["extract"]


def test_a_deferred_task_as_users_see_it(site: Site) -> None:
    client, _ = site.login("viewer")
    op = site.client()
    op.auth = ("op", "op-pass-123")
    op.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r2"})
    key = TaskInstanceKey(DAG_ID, "r2", "extract")
    with transaction(site.factory) as session:
        ti = task_instances.get_task_instance(session=session, key=key)
        ti.try_number, ti.state, ti.trigger_id, ti.next_method = 1, "deferred", 7, "execute_complete"
        ti.trigger_timeout = NOW + timedelta(hours=1)
    page = client.get(f"/dags/{DAG_ID}/runs/r2/tasks/extract", headers=HTML).text
    assert 'data-testid="deferral"' in page and "waiting on trigger 7" in page and "execute_complete" in page
    body = op.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r2/taskInstances/extract").json()
    assert (body["state"], body["try_number"]) == ("deferred", 1)
    listed = op.get(f"/api/v1/dags/{DAG_ID}/dagRuns/r2/taskInstances", params={"state": "deferred"})
    assert [t["task_id"] for t in listed.json()["task_instances"]] == ["extract"]
    grid = client.get(f"/dags/{DAG_ID}/grid", headers=HTML)
    assert grid.status_code == 200
