"""Notifiers called as callbacks: their template fields rendered with the callback's context, SmtpNotifier
mailing a real local SMTP server, WebhookNotifier posting JSON to a real local HTTP server; a notifier that
cannot deliver logs why and never raises into the task."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.providers.smtp_service import PASSWORD, USER, SmtpService, smtp_service
from tradewind.providers.smtp.notifications.smtp import SmtpNotifier
from tradewind.providers.webhook.notifications.webhook import WebhookNotifier
from tradewind.sdk.dag import DAG
from tradewind.sdk.notifier import BaseNotifier
from tradewind.sdk.operators.empty import EmptyOperator

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

WEBHOOK_TOKEN = "T000/B000/hook-s3cret-token"


class _TI:
    dag_id, task_id, run_id, map_index, try_number, max_tries = "sales", "load", "manual__1", -1, 2, 3


def task_context(**extra: Any) -> dict[str, Any]:
    return {"ti": _TI(), "run_id": "manual__1", "ds": "2026-01-01", "params": {"team": "data"}, **extra}


# -- BaseNotifier ------------------------------------------------------------------------------------------
@dataclass
class Recorder(BaseNotifier):
    message: str
    tags: list[str] = field(default_factory=list)
    seen: list[tuple[str, list[str]]] = field(default_factory=list)
    template_fields = ("message", "tags")

    def __post_init__(self) -> None:
        super().__init__()

    def notify(self, context: Mapping[str, Any]) -> None:
        self.seen.append((self.message, self.tags))


def test_base_notifier_renders_a_copy_then_notifies() -> None:
    seen: list[tuple[str, list[str]]] = []
    notifier = Recorder("{{ ti.task_id }} on {{ ds }} for {{ params.team }}", ["{{ run_id }}", "x"], seen)
    notifier(task_context())
    notifier(task_context(ds="2026-01-02"))
    assert seen == [
        ("load on 2026-01-01 for data", ["manual__1", "x"]),
        ("load on 2026-01-02 for data", ["manual__1", "x"]),
    ]
    assert notifier.message == "{{ ti.task_id }} on {{ ds }} for {{ params.team }}"  # still a template
    # The DAG's own environment: its user macros.
    dag = DAG(
        "with_macros", schedule=None, start_date=datetime(2026, 1, 1), user_defined_macros={"owner": "ana"}
    )
    Recorder("owner {{ owner }}", [], seen)({"dag": dag})
    assert seen[-1] == ("owner ana", [])


def test_base_notifier_accepts_airflow_2_positional_arguments() -> None:
    seen: list[tuple[str, list[str]]] = []
    dag = DAG("sla", schedule=None, start_date=datetime(2026, 1, 1))
    Recorder("{{ dag.dag_id }}: {{ task_list }}", [], seen)(dag, "t1,t2", "", [], [])
    assert seen == [("sla: t1,t2", [])]


def test_a_failing_notifier_logs_and_returns(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(BaseNotifier):
        def notify(self, context: Mapping[str, Any]) -> None:
            raise RuntimeError("the pager is on fire")

    with caplog.at_level(logging.ERROR):
        Broken()(task_context())  # no exception
    assert "Broken failed to send its notification: RuntimeError: the pager is on fire" in caplog.text


# -- SmtpNotifier ------------------------------------------------------------------------------------------
@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpService]:
    with smtp_service("plain", auth=True) as service:
        extra = {"from_email": "alerts@example.com", "disable_ssl": True, "disable_tls": True}
        conn = {"conn_type": "smtp", "host": service.host, "port": service.port, "login": USER,
                "password": PASSWORD, "extra": extra}  # fmt: skip
        monkeypatch.setenv("TRADEWIND_CONN_SMTP_DEFAULT", json.dumps(conn))
        yield service


def test_smtp_notifier_default_text_for_a_task_and_for_a_dag(mail: SmtpService) -> None:
    notifier = SmtpNotifier(to="team@example.com, lead@example.com", cc="{{ params.team }}@example.com")
    notifier(task_context(exception=ValueError("bad <row> 7")))
    task_mail = mail.received[0]
    assert task_mail.login == USER and task_mail.mail_from == "alerts@example.com"
    assert task_mail.rcpt_tos == ["team@example.com", "lead@example.com", "data@example.com"]
    assert task_mail.message["Subject"] == "[Tradewind] task sales.load, run manual__1, try 2"
    assert "Task <b>load</b>" in task_mail.html and "Try 2 of 4." in task_mail.html
    assert "<pre>bad &lt;row&gt; 7</pre>" in task_mail.html

    dag = DAG("sales", schedule=None, start_date=datetime(2026, 1, 1))
    EmptyOperator(task_id="t", dag=dag)
    notifier({"dag": dag, "run_id": "manual__1", "reason": "task_failure", "params": {"team": "data"}})
    dag_mail = mail.received[1]
    assert dag_mail.message["Subject"] == "[Tradewind] DAG sales (task_failure), run manual__1"
    assert "DAG <b>sales</b>" in dag_mail.html and "Reason: task_failure" in dag_mail.html


def test_smtp_notifier_templated_subject_and_body(mail: SmtpService) -> None:
    SmtpNotifier(
        to="{{ params.team }}@example.com",
        from_email="me@example.com",
        subject="{{ ti.dag_id }}.{{ ti.task_id }} needs you",
        html_content="<p>{{ ds }}</p>",
    )(task_context())
    [sent] = mail.received
    assert (sent.rcpt_tos, sent.mail_from) == (["data@example.com"], "me@example.com")
    assert sent.message["Subject"] == "sales.load needs you" and sent.html == "<p>2026-01-01</p>"


# -- WebhookNotifier ---------------------------------------------------------------------------------------
@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: Any


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, list[Posted]]]:
    posted: list[Posted] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            posted.append(Posted(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = 500 if self.path.endswith("/broken") else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no channel")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posted
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_posts_slack_compatible_text_by_default(webhook_server: tuple[str, list[Posted]]) -> None:
    url, posted = webhook_server
    WebhookNotifier(f"{url}/services/{WEBHOOK_TOKEN}")(task_context(exception=ValueError("bad row 7")))
    [post] = posted
    assert post.path == f"/services/{WEBHOOK_TOKEN}"
    assert post.headers["content-type"] == "application/json"
    assert post.body == {"text": "[Tradewind] task sales.load, run manual__1, try 2: bad row 7"}


def test_webhook_from_a_connection_with_a_templated_body(
    webhook_server: tuple[str, list[Posted]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, posted = webhook_server
    conn = {
        "conn_type": "http",
        "host": url,
        "login": "bot",
        "password": "hook-pass",
        "extra": {"X-Team": "data"},
    }
    monkeypatch.setenv("TRADEWIND_CONN_CHAT_HOOK", json.dumps(conn))
    body = {"title": "{{ ti.task_id }} failed", "facts": [{"name": "run", "value": "{{ run_id }}"}], "n": 3}
    with caplog.at_level(logging.INFO):
        WebhookNotifier(http_conn_id="chat_hook", endpoint=f"hooks/{WEBHOOK_TOKEN}", json_body=body)(
            task_context()
        )
    [post] = posted
    assert post.path == f"/hooks/{WEBHOOK_TOKEN}"
    assert post.body == {"title": "load failed", "facts": [{"name": "run", "value": "manual__1"}], "n": 3}
    assert post.headers["x-team"] == "data"
    assert post.headers["authorization"] == "Basic " + base64.b64encode(b"bot:hook-pass").decode()
    assert "Posted the notification to the webhook on 127.0.0.1" in caplog.text
    assert WEBHOOK_TOKEN not in caplog.text


def test_webhook_refusal_is_logged_without_the_url_secret(
    webhook_server: tuple[str, list[Posted]], caplog: pytest.LogCaptureFixture
) -> None:
    url, _posted = webhook_server
    with caplog.at_level(logging.ERROR):
        WebhookNotifier(f"{url}/{WEBHOOK_TOKEN}/broken")(task_context())
    assert "WebhookNotifier failed to send its notification: ExternalSystemError" in caplog.text
    assert "answered 500 Internal Server Error: no channel" in caplog.text
    assert WEBHOOK_TOKEN not in caplog.text
