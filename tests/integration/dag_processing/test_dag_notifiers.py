"""A DAG-level on_failure_callback that is a SmtpNotifier, run by the DAG processor's real
`tradewind dags run-callback` process: the mail reaches a real local SMTP server; with the server down, the
callback's log says why and the callback still ends."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.providers.smtp_service import PASSWORD, USER, smtp_service
from tradewind.config.settings import Settings, load_settings
from tradewind.core.clock import utcnow
from tradewind.core.log_paths import dag_callback_log_path
from tradewind.dag_processing.dag_callback_runner import DagCallbackRunner
from tradewind.dag_processing.processor import DagProcessor
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run

pytestmark = [
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning"),
]

NOTIFIED_DAG = """
from datetime import datetime
from tradewind import DAG, EmptyOperator
from tradewind.providers.smtp.notifications.smtp import SmtpNotifier

with DAG("mailed", schedule=None, start_date=datetime(2026, 1, 1), params={"team": "data"},
         on_failure_callback=SmtpNotifier(to="{{ params.team }}@example.com")):
    EmptyOperator(task_id="t")
"""


@pytest.fixture
def proc_settings(proc_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The callback's timeout (the parse timeout) long enough for a cold `run-callback` on a loaded machine."""
    monkeypatch.setenv("TRADEWIND__SCHEDULER__DAG_FILE_PROCESSOR_TIMEOUT", "60")
    return load_settings()


def _connection(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    extra = {"from_email": "alerts@example.com", "disable_ssl": True, "disable_tls": True}
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": USER, "password": PASSWORD,
            "extra": extra}  # fmt: skip
    monkeypatch.setenv("TRADEWIND_CONN_SMTP_DEFAULT", json.dumps(conn))


def _fail_a_run(proc_settings: Settings, sessions: sessionmaker[Session]) -> Path:
    """Parse the DAG, request its failure callback for a new run, run it; the callback's log file."""
    (proc_settings.dags_folder / "mailed.py").write_text(NOTIFIED_DAG)
    DagProcessor(proc_settings, sessions).run_once()
    with transaction(sessions) as session:
        run_id = trigger_run(session=session, dag_id="mailed", now=utcnow()).run_id
        dag_callbacks.request_dag_callback(session=session, dag_id="mailed", run_id=run_id,
                                           callback=dag_callbacks.ON_FAILURE, reason="task_failure", now=utcnow())  # fmt: skip
    [run] = DagCallbackRunner(proc_settings, sessions).run_pending()
    assert run.outcome == "ok"  # a notifier never fails its callback
    return dag_callback_log_path(proc_settings.base_log_folder, "mailed", run_id, dag_callbacks.ON_FAILURE)


def test_dag_failure_notifier_mails(
    proc_settings: Settings, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_service("plain", auth=True) as service:
        _connection(monkeypatch, service.port)
        log = _fail_a_run(proc_settings, sessions).read_text()
    [mail] = service.received
    assert mail.login == USER and mail.rcpt_tos == ["data@example.com"]
    assert mail.message["Subject"].startswith("[Tradewind] DAG mailed (task_failure), run manual__")
    assert "Reason: task_failure" in mail.html
    assert PASSWORD not in log


def test_dag_failure_notifier_with_the_server_down_logs_why(
    proc_settings: Settings, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _connection(monkeypatch, port)
    log = _fail_a_run(proc_settings, sessions).read_text()
    assert (
        "SmtpNotifier failed to send its notification: ExternalSystemError: SMTP connection 'smtp_default'"
        in log
    )
    assert "ConnectionRefusedError" in log and PASSWORD not in log
