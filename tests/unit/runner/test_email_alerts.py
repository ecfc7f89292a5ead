"""Which tries mail an alert (Airflow's defaults: on failure and on retry, when the task has ``email``), and what
the built-in alert says."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from tradewind.config.settings import Settings, load_settings
from tradewind.core.states import TaskInstanceState
from tradewind.runner.email_alerts import log_url, render_alert, send_email_alert
from tradewind.sdk.context import RuntimeTaskInstance
from tradewind.sdk.dag import DAG
from tradewind.sdk.operators.empty import EmptyOperator

log = logging.getLogger("test.email_alerts")


@pytest.fixture
def settings(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__WEBSERVER__PORT", "8181")
    return load_settings()


def _task(**kwargs: object) -> tuple[EmptyOperator, dict[str, object]]:
    dag = DAG("d1", schedule=None, start_date=datetime(2026, 1, 1))
    task = EmptyOperator(task_id="t1", dag=dag, **kwargs)  # type: ignore[arg-type]
    ti = RuntimeTaskInstance(
        task=task, dag_id="d1", run_id="manual__1", map_index=2, try_number=1, max_tries=1
    )
    return task, {"ti": ti, "run_id": "manual__1", "dag": dag, "ds": "2026-01-01"}


def test_airflow_defaults_send_on_failure_and_retry() -> None:
    task, _ = _task(email="a@x.org")
    assert task.email_on_failure and task.email_on_retry


@pytest.mark.parametrize(
    ("kwargs", "state"),
    [
        ({}, TaskInstanceState.FAILED),  # no email addresses
        ({"email": "a@x.org"}, TaskInstanceState.SUCCESS),
        ({"email": "a@x.org"}, TaskInstanceState.SKIPPED),
        ({"email": "a@x.org", "email_on_failure": False}, TaskInstanceState.FAILED),
        ({"email": ["a@x.org"], "email_on_retry": False}, TaskInstanceState.UP_FOR_RETRY),
    ],
)
def test_no_alert(settings: Settings, kwargs: dict[str, object], state: TaskInstanceState) -> None:
    task, context = _task(**kwargs)
    # Nothing is attempted: [smtp] points at localhost:25, where nothing listens here.
    assert send_email_alert(task, state, context, ValueError("x"), settings=settings, log=log) is False


def test_built_in_text(settings: Settings) -> None:
    task, context = _task(email="a@x.org")
    subject, body = render_alert(task, context, ValueError("bad <input>"), "failed", settings)
    assert subject == "[Tradewind] task d1.t1[2] failed, run manual__1, try 1"
    assert "Task <b>t1</b> (map index 2) of DAG <b>d1</b>, run <b>manual__1</b>: failed." in body
    assert "Try 1 of 2." in body and "<pre>bad &lt;input&gt;</pre>" in body
    assert "Airflow" not in subject + body
    url = log_url(settings, context["ti"])
    assert url == "http://127.0.0.1:8181/dags/d1/runs/manual__1/tasks/t1?try_number=1&map_index=2"
    assert f'href="{url.replace("&", "&amp;")}"' in body
