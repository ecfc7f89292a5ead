"""Email alerts of a try: a task's ``email_on_failure`` / ``email_on_retry`` mail to its ``email`` addresses, sent
after the try's state is written, through ``SmtpHook`` with ``[smtp]`` and the connection ``[smtp] conn_id``.

An alert that cannot be sent (server down, refused, timed out, a broken template) is logged in the try's log
with the reason; it never changes the try's outcome, and it waits at most ``[smtp] timeout`` per network step.
"""

from __future__ import annotations

import html
import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from tradewind.config.settings import Settings
from tradewind.core.states import TaskInstanceState
from tradewind.providers.smtp.hooks.smtp import SmtpHook
from tradewind.providers.smtp.message import address_list
from tradewind.providers.smtp.server import SmtpServer
from tradewind.providers.smtp.templates import DEFAULT_HTML_CONTENT, DEFAULT_SUBJECT
from tradewind.sdk import templating
from tradewind.sdk.legacy_context import context_with

#: The state a try ended in -> the task flag that asks for a mail, and what the mail says happened.
ALERT_FOR_STATE = {
    TaskInstanceState.FAILED: ("email_on_failure", "failed"),
    TaskInstanceState.UP_FOR_RETRY: ("email_on_retry", "up for retry"),
}


def send_email_alert(
    task: Any,
    state: TaskInstanceState,
    context: Mapping[str, Any],
    error: BaseException | None,
    *,
    settings: Settings,
    log: logging.Logger,
) -> bool:
    """Mail the task's ``email`` addresses if its flag for ``state`` is set; True when a mail went out."""
    flag, alert = ALERT_FOR_STATE.get(state, (None, ""))
    if flag is None or not getattr(task, flag, False):
        return False
    try:
        recipients = address_list(getattr(task, "email", None))
    except TypeError as exc:
        log.error("Email alert (%s) not sent: the task's email is not an address list: %s", alert, exc)
        return False
    if not recipients:
        return False
    try:
        subject, body = render_alert(task, context, error, alert, settings)
        hook = SmtpHook(settings.smtp.conn_id, defaults=SmtpServer.from_settings(settings.smtp))
        hook.send_email_smtp(to=recipients, subject=subject, html_content=body)
    except Exception as exc:  # an alert's failure is reported beside the try, never turned into its outcome
        log.error(
            "Email alert (%s) to %s not sent: %s: %s", alert, ", ".join(recipients), type(exc).__name__, exc
        )
        return False
    log.info("Email alert (%s) sent to %s", alert, ", ".join(recipients))
    return True


def render_alert(
    task: Any, context: Mapping[str, Any], error: BaseException | None, alert: str, settings: Settings
) -> tuple[str, str]:
    """The subject (one line) and HTML body: ``[email]`` template files if set, else the built-in ones."""
    ti = context.get("ti")
    values = context_with(
        context,
        exception=error,
        exception_html=html.escape(str(error)) if error is not None else "",
        reason=str(error) if error is not None else None,
        alert=alert,
        try_number=getattr(ti, "try_number", None),
        max_tries=getattr(ti, "max_tries", None),
        log_url=log_url(settings, ti) if ti is not None else "",
        hostname=settings.core.hostname or socket.gethostname(),
    )
    env = task.get_template_env() if callable(getattr(task, "get_template_env", None)) \
        else templating.default_environment()  # fmt: skip
    subject = _template(settings.email.subject_template, DEFAULT_SUBJECT)
    body = _template(settings.email.html_content_template, DEFAULT_HTML_CONTENT)
    rendered_subject = str(templating.render_value(subject, values, env, (), set()))
    return " ".join(rendered_subject.split()), str(templating.render_value(body, values, env, (), set()))


def _template(path: Path | None, default: str) -> str:
    return path.expanduser().read_text(encoding="utf-8") if path else default


def log_url(settings: Settings, ti: Any) -> str:
    """The task page of the web UI at this try, where its log is shown."""
    base = settings.email.base_url or f"http://{settings.webserver.host}:{settings.webserver.port}"
    path = "/".join(
        quote(str(part), safe="") for part in ("dags", ti.dag_id, "runs", ti.run_id, "tasks", ti.task_id)
    )
    query = {"try_number": ti.try_number, **({"map_index": ti.map_index} if ti.map_index >= 0 else {})}
    return f"{base.rstrip('/')}/{path}?{urlencode(query)}"
