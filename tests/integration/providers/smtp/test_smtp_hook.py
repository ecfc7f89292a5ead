"""SmtpHook and EmailOperator against a real local SMTP server: plain with AUTH, STARTTLS and SMTPS with a
self-signed certificate the client verifies, attachments, Bcc, and failures that name the connection and never
the password."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.providers.smtp_service import PASSWORD, USER, SmtpService, smtp_service
from tradewind.providers.smtp.hooks.smtp import SmtpHook
from tradewind.providers.smtp.operators.smtp import EmailOperator
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError, NotFoundError
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

PLAIN_EXTRA = {"from_email": "tradewind@example.com", "disable_ssl": True, "disable_tls": True}


def set_connection(
    monkeypatch: pytest.MonkeyPatch, conn_id: str, service: SmtpService, **fields: Any
) -> None:
    values = {"conn_type": "smtp", "host": service.host, "port": service.port, **fields}
    monkeypatch.setenv(f"TRADEWIND_CONN_{conn_id.upper()}", json.dumps(values))


@pytest.fixture
def plain_auth(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpService]:
    with smtp_service("plain", auth=True) as service:
        set_connection(monkeypatch, "smtp_default", service, login=USER, password=PASSWORD, extra=PLAIN_EXTRA)
        yield service


def test_sends_html_mail_with_cc_bcc_and_attachment_after_logging_in(
    plain_auth: SmtpService, tmp_path: Path
) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes(b"day,rows\n2026-01-01,42\n")
    with SmtpHook() as hook:
        hook.send_email_smtp(
            "ana@example.com; bo@example.com",
            "Daily report",
            "<h1>Rows: 42</h1>",
            files=[str(report)],
            cc="cy@example.com",
            bcc=["dee@example.com"],
            custom_headers={"X-Tradewind-Run": "manual__1"},
        )
        hook.send_email_smtp("ana@example.com", "Second mail, same session", "<p>again</p>")
    first, second = plain_auth.received
    assert first.login == USER  # the server checked AUTH with the connection's login and password
    assert first.mail_from == "tradewind@example.com"
    assert first.rcpt_tos == ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]
    assert first.message["To"] == "ana@example.com, bo@example.com"
    assert first.message["Cc"] == "cy@example.com"
    assert first.message["Bcc"] is None  # blind copies are delivered, never shown
    assert first.message["Subject"] == "Daily report"
    assert first.message["X-Tradewind-Run"] == "manual__1"
    assert first.html == "<h1>Rows: 42</h1>"
    assert first.attachments() == {"report.csv": b"day,rows\n2026-01-01,42\n"}
    assert second.message["Subject"] == "Second mail, same session"


def test_wrong_password_names_connection_and_login_never_the_password(
    plain_auth: SmtpService, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, "smtp_bad", plain_auth, login=USER, password="not-it-123", extra=PLAIN_EXTRA)
    with pytest.raises(ExternalSystemError) as caught:
        SmtpHook("smtp_bad").send_email_smtp("ana@example.com", "x", "y")
    message = str(caught.value)
    assert "'smtp_bad'" in message and f"{plain_auth.host}:{plain_auth.port}" in message
    assert "SMTPAuthenticationError: 535" in message
    assert caught.value.conn_id == "smtp_bad" and caught.value.status == 535
    assert "not-it-123" not in message and PASSWORD not in message
    assert set(plain_auth.handler.refused_logins) == {USER}  # smtplib tries each mechanism it knows
    ok, reason = SmtpHook("smtp_bad").test_connection()
    assert not ok and "SMTPAuthenticationError" in reason and "not-it-123" not in reason
    assert SmtpHook().test_connection()[0] is True


def test_starttls_verifies_the_servers_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_service("starttls", tls_folder=tmp_path, auth=True) as service:
        extra = {"from_email": "tw@example.com", "disable_ssl": True}  # STARTTLS is on unless disabled
        set_connection(monkeypatch, "smtp_tls", service, login=USER, password=PASSWORD, extra=extra)
        # Not yet trusted: the self-signed certificate is refused.
        with pytest.raises(ExternalSystemError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpHook("smtp_tls").send_email_smtp("ana@example.com", "x", "y")
        monkeypatch.setenv("SSL_CERT_FILE", str(service.cert_file))
        SmtpHook("smtp_tls").send_email_smtp("ana@example.com", "over TLS", "<p>secret-free</p>")
        [mail] = service.received
        assert mail.login == USER and mail.message["Subject"] == "over TLS"


def test_smtps_from_the_start_and_ssl_context_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_service("ssl", tls_folder=tmp_path) as service:
        # Airflow's meaning: a connection without extras uses SMTPS. ssl_context none skips verification.
        set_connection(monkeypatch, "smtp_ssl", service, extra={"ssl_context": "none"})
        hook = SmtpHook("smtp_ssl")
        assert hook.use_ssl and not hook.smtp_starttls
        hook.send_email_smtp("ana@example.com", "over SMTPS", "<p>hi</p>", from_email="me@example.com")
        assert [m.mail_from for m in service.received] == ["me@example.com"]


def test_server_down_is_an_error_naming_the_connection_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": PLAIN_EXTRA}
    monkeypatch.setenv("TRADEWIND_CONN_SMTP_DOWN", json.dumps(conn))
    with pytest.raises(
        ExternalSystemError, match=rf"'smtp_down': cannot connect to the mail server 127.0.0.1:{port}"
    ):
        SmtpHook("smtp_down").send_email_smtp("ana@example.com", "x", "y")
    ok, reason = SmtpHook("smtp_down").test_connection()
    assert not ok and "ConnectionRefusedError" in reason


def test_a_silent_server_is_waited_for_once_not_per_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        extra = {**PLAIN_EXTRA, "timeout": 1, "retry_limit": 5}
        conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": silent.getsockname()[1], "extra": extra}
        monkeypatch.setenv("TRADEWIND_CONN_SMTP_SILENT", json.dumps(conn))
        started = time.monotonic()
        with pytest.raises(ExternalSystemError, match=r"'smtp_silent': cannot connect .* timed out"):
            SmtpHook("smtp_silent").send_email_smtp("ana@example.com", "x", "y")
        assert time.monotonic() - started < 4  # six waits of a second if each retry waited again


def test_bad_input_names_the_connection_and_field(
    plain_auth: SmtpService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with use_runtime(InMemoryRuntime()), pytest.raises(NotFoundError, match="'smtp_missing'"):
        SmtpHook("smtp_missing").send_email_smtp("ana@example.com", "x", "y")
    set_connection(monkeypatch, "smtp_odd", plain_auth, extra={"disable_ssl": "sometimes"})
    with pytest.raises(ConnectionFieldError) as caught:
        SmtpHook("smtp_odd").send_email_smtp("ana@example.com", "x", "y")
    assert (caught.value.conn_id, caught.value.field) == ("smtp_odd", "extra.disable_ssl")
    set_connection(monkeypatch, "smtp_nofrom", plain_auth, extra={"disable_ssl": True, "disable_tls": True})
    with pytest.raises(ConnectionFieldError) as caught:
        SmtpHook("smtp_nofrom").send_email_smtp("ana@example.com", "x", "y")
    assert caught.value.field == "extra.from_email"
    assert plain_auth.received == []


def test_subject_and_body_templates_from_the_connection(plain_auth: SmtpService, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "subject.txt").write_text("Run {{ run_id }} of {{ ti.dag_id }}\n")
    (tmp_path / "body.html").write_text("<p>\nTask {{ ti.task_id }} says {{ params.word }}\n</p>")
    extra = {
        **PLAIN_EXTRA,
        "subject_template": str(tmp_path / "subject.txt"),
        "html_content_template": str(tmp_path / "body.html"),
    }
    set_connection(monkeypatch, "smtp_tpl", plain_auth, login=USER, password=PASSWORD, extra=extra)
    op = EmailOperator(task_id="mail", to="ana@example.com", conn_id="smtp_tpl", params={"word": "hello"})
    ti = type("TI", (), {"dag_id": "reports", "task_id": "mail"})()
    op.execute({"run_id": "manual__7", "ti": ti, "params": {"word": "hello"}})
    [mail] = plain_auth.received
    assert mail.message["Subject"] == "Run manual__7 of reports"
    assert mail.html == "<p>Task mail says hello</p>"


def test_the_hook_is_found_by_conn_type(plain_auth: SmtpService) -> None:
    hook = Connection.get("smtp_default").get_hook()
    assert isinstance(hook, SmtpHook) and hook.smtp_conn_id == "smtp_default"
