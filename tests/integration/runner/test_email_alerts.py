"""Email alerts and mail notifiers end to end: real `tradewind tasks run` processes mail a real local SMTP server
(login and password from the connection [smtp] conn_id); with the server down the try ends exactly as without
email, and its log says why no alert went out."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.integration.providers.smtp_service import PASSWORD, USER, SmtpService, smtp_service
from tests.integration.runner.harness import SQLITE_ONLY, RunnerEnv, run_through_executor, runner_database
from tradewind.api.execution.embedded import EmbeddedExecutionApi
from tradewind.config.settings import Settings, load_settings
from tradewind.core.events import TryProcessEvent
from tradewind.execution.tokens import WorkloadTokens, signer_from_settings
from tradewind.sdk.connection import Connection
from tradewind.store.connections import set_connection
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher

pytestmark = [SQLITE_ONLY, pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")]


def _use_server(env: RunnerEnv, host: str, port: int, *, address_in_connection: bool = False) -> None:
    """[smtp] names the server; the connection smtp_default holds the login and password (and, for
    SmtpNotifier, which reads the connection only, as Airflow's, the server too)."""
    conn = {"conn_type": "smtp", "login": USER, "password": PASSWORD, "extra": {"disable_ssl": True}}
    if address_in_connection:
        conn.update(host=host, port=port, extra={"disable_ssl": True, "disable_tls": True})
    env.env.update(
        {
            "TRADEWIND__SMTP__HOST": host,
            "TRADEWIND__SMTP__PORT": str(port),
            "TRADEWIND__SMTP__MAIL_FROM": "Tradewind <tradewind@example.com>",
            "TRADEWIND__SMTP__TIMEOUT": "5",
            "TRADEWIND__EMAIL__BASE_URL": "https://tradewind.example.com/",
            # The password reaches the task process only as a connection.
            "TRADEWIND_CONN_SMTP_DEFAULT": json.dumps(conn),
        }
    )


@pytest.fixture
def mail(runner_env: RunnerEnv) -> Iterator[SmtpService]:
    with smtp_service("plain", auth=True) as service:
        _use_server(runner_env, service.host, service.port)
        yield service


def test_retry_then_failure_each_mail_the_tasks_addresses(runner_env: RunnerEnv, mail: SmtpService) -> None:
    runner_env.queue("email_alerts")
    assert runner_env.run("email_alerts").returncode == 1
    assert runner_env.ti("email_alerts").state == "up_for_retry"
    [retry] = mail.received
    assert retry.login == USER
    assert retry.mail_from == "tradewind@example.com"
    assert retry.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    subject = retry.message["Subject"]
    assert "email_alerts" in subject and "up for retry" in subject and "try 1" in subject
    assert "runner_basics" in subject and "scheduled__2024-01-01T00:00:00+00:00" in subject
    # The error, HTML-escaped, and a link to the try's page.
    assert "<pre>disk &lt;full&gt; on the warehouse &amp; more</pre>" in retry.html
    assert "Try 1 of 2." in retry.html
    assert (
        "https://tradewind.example.com/dags/runner_basics/runs/scheduled__2024-01-01T00%3A00%3A00%2B00%3A00"
        "/tasks/email_alerts?try_number=1" in retry.html
    )
    log = runner_env.log("email_alerts")
    assert "Email alert (up for retry) sent to oncall@example.com, lead@example.com" in log
    assert PASSWORD not in log

    runner_env.queue("email_alerts", try_number=2)
    assert runner_env.run("email_alerts", try_number=2).returncode == 1
    assert runner_env.ti("email_alerts").state == "failed"
    failure = mail.received[1]
    assert " failed" in failure.message["Subject"] and "try 2" in failure.message["Subject"]
    assert "Try 2 of 2." in failure.html
    assert "Email alert (failed) sent" in runner_env.log("email_alerts", try_number=2)


def test_templates_from_email_settings(runner_env: RunnerEnv, mail: SmtpService, tmp_path: Path) -> None:
    (tmp_path / "subject.j2").write_text(
        "ALERT {{ ti.task_id }} {{ alert }} ({{ try_number }}/{{ max_tries + 1 }})\n"
    )
    (tmp_path / "body.j2").write_text(
        "<pre>{{ exception_html }}</pre><a href='{{ log_url }}'>log</a> {{ ds }}"
    )
    runner_env.env["TRADEWIND__EMAIL__SUBJECT_TEMPLATE"] = str(tmp_path / "subject.j2")
    runner_env.env["TRADEWIND__EMAIL__HTML_CONTENT_TEMPLATE"] = str(tmp_path / "body.j2")
    runner_env.queue("email_alerts")
    runner_env.run("email_alerts")
    [retry] = mail.received
    assert retry.message["Subject"] == "ALERT email_alerts up for retry (1/2)"
    assert retry.html.startswith("<pre>disk &lt;full&gt; on the warehouse &amp; more</pre><a href='https://")
    assert retry.html.endswith("log</a> 2024-01-01")


def test_smtp_notifier_as_a_task_failure_callback(runner_env: RunnerEnv, mail: SmtpService) -> None:
    _use_server(runner_env, mail.host, mail.port, address_in_connection=True)
    runner_env.queue("notify_by_mail")
    assert runner_env.run("notify_by_mail").returncode == 1
    assert runner_env.ti("notify_by_mail").state == "failed"
    # email_on_failure=False: no alert to quiet@; the notifier's mail only.
    [notice] = mail.received
    assert notice.rcpt_tos == ["team@example.com"] and notice.mail_from == "bot@example.com"
    assert notice.message["Subject"] == "notify_by_mail failed in scheduled__2024-01-01T00:00:00+00:00"
    assert "disk &lt;full&gt; on the warehouse" in notice.html  # the built-in body, with the error
    assert PASSWORD not in runner_env.log("notify_by_mail")


def test_server_down_leaves_the_outcome_alone_and_the_log_says_why(runner_env: RunnerEnv) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _use_server(runner_env, "127.0.0.1", port, address_in_connection=True)
    runner_env.queue("email_alerts")
    assert runner_env.run("email_alerts").returncode == 1
    assert runner_env.ti("email_alerts").state == "up_for_retry"
    runner_env.queue("notify_by_mail")
    assert runner_env.run("notify_by_mail").returncode == 1
    assert runner_env.ti("notify_by_mail").state == "failed"

    log = runner_env.log("email_alerts")
    assert "Marking task as UP_FOR_RETRY" in log
    assert (
        "Email alert (up for retry) to oncall@example.com, lead@example.com not sent: ExternalSystemError: "
        f"SMTP connection 'smtp_default': cannot connect to the mail server 127.0.0.1:{port}: "
        "ConnectionRefusedError" in log
    )
    notifier_log = runner_env.log("notify_by_mail")
    assert "SmtpNotifier failed to send its notification: ExternalSystemError" in notifier_log
    assert PASSWORD not in log and PASSWORD not in notifier_log


def test_stored_connection_reaches_a_forked_try_through_the_execution_api(
    settings: Settings, tw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way production runs it: the try holds a token, no database URL; the SMTP password is encrypted in
    the database and reaches the runner only through the execution API (with the try's callback token)."""
    with smtp_service("plain", auth=True) as service:
        monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", Fernet.generate_key().decode())
        monkeypatch.setenv("TRADEWIND__SMTP__HOST", service.host)
        monkeypatch.setenv("TRADEWIND__SMTP__PORT", str(service.port))
        keyed = load_settings()
        with runner_database(keyed, tw_home, tmp_path) as env:
            with transaction(env.factory) as session:
                stored = Connection("smtp_default", conn_type="smtp", login=USER, password=PASSWORD)
                set_connection(session=session, connection=stored, cipher=FieldCipher.from_settings(keyed))
            server = EmbeddedExecutionApi(keyed)
            url = server.start()
            try:
                outcome, _tokens = run_through_executor(
                    env, WorkloadTokens(signer_from_settings(keyed), url), ["email_alerts"]
                )
            finally:
                server.stop()
            assert outcome == {"email_alerts": TryProcessEvent.FAILED}  # the process's exit code 1
            assert env.ti("email_alerts").state == "up_for_retry"
            log = env.log("email_alerts")
    [retry] = service.received
    assert retry.login == USER and retry.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    assert "Email alert (up for retry) sent" in log and PASSWORD not in log


def test_a_silent_server_costs_at_most_the_timeout(runner_env: RunnerEnv) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        _use_server(runner_env, "127.0.0.1", silent.getsockname()[1])
        runner_env.env["TRADEWIND__SMTP__TIMEOUT"] = "1"
        runner_env.queue("email_alerts")
        started = time.monotonic()
        assert runner_env.run("email_alerts").returncode == 1
        elapsed = time.monotonic() - started
    assert runner_env.ti("email_alerts").state == "up_for_retry"
    log = runner_env.log("email_alerts")
    assert "Email alert (up for retry) to oncall@example.com, lead@example.com not sent" in log
    assert "cannot connect to the mail server" in log and "timed out" in log
    # One wait of [smtp] timeout, not one per retry: a silent server is not tried again.
    assert elapsed < 30
    assert "SMTPServerDisconnected" in log
