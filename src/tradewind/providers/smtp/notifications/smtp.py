"""SmtpNotifier: a task or DAG callback that mails (Airflow's ``SmtpNotifier``; ``send_smtp_notification`` too)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tradewind.providers.smtp.hooks.smtp import SmtpHook
from tradewind.providers.smtp.templates import DEFAULT_HTML_CONTENT, DEFAULT_SUBJECT
from tradewind.sdk import templating
from tradewind.sdk.notifier import BaseNotifier


class SmtpNotifier(BaseNotifier):
    """``on_failure_callback=SmtpNotifier(to="team@example.com")``: every field is a template rendered with the
    callback's context. Without ``subject`` / ``html_content``, the connection's ``subject_template`` /
    ``html_content_template`` file, else Tradewind's own alert text; without ``from_email``, the connection's."""

    template_fields = (
        "from_email", "to", "subject", "html_content", "files", "cc", "bcc", "mime_subtype", "mime_charset",
        "custom_headers", "smtp_conn_id",
    )  # fmt: skip

    def __init__(
        self,
        to: str | Iterable[str],
        from_email: str | None = None,
        subject: str | None = None,
        html_content: str | None = None,
        files: list[str] | None = None,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        custom_headers: dict[str, Any] | None = None,
        smtp_conn_id: str | None = None,
        auth_type: str = "basic",
        *,
        template: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.from_email = from_email
        self.subject = subject
        self.html_content = html_content
        if html_content is None and template is not None:
            self.html_content = Path(template).read_text(encoding="utf-8")
        self.files = files
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.custom_headers = custom_headers
        self.smtp_conn_id = smtp_conn_id or SmtpHook.default_conn_name
        self.auth_type = auth_type

    def notify(self, context: Mapping[str, Any]) -> None:
        with SmtpHook(smtp_conn_id=self.smtp_conn_id, auth_type=self.auth_type) as hook:
            subject = self.subject
            if subject is None:
                text = hook.read_template(hook.subject_template, "subject_template") if hook.subject_template \
                    else DEFAULT_SUBJECT  # fmt: skip
                subject = self._render(text, context)
            html_content = self.html_content
            if html_content is None:
                text = hook.read_template(hook.html_content_template, "html_content_template") \
                    if hook.html_content_template else DEFAULT_HTML_CONTENT  # fmt: skip
                html_content = self._render(text, context)
            hook.send_email_smtp(
                to=self.to,
                subject=" ".join(subject.split()),
                html_content=html_content,
                from_email=self.from_email,
                files=self.files,
                cc=self.cc,
                bcc=self.bcc,
                mime_subtype=self.mime_subtype,
                mime_charset=self.mime_charset,
                custom_headers=self.custom_headers,
            )

    def _render(self, text: str, context: Mapping[str, Any]) -> str:
        env = self.get_template_env(context.get("dag"))
        return str(templating.render_value(text, context, env, (), set()))


send_smtp_notification = SmtpNotifier
