"""EmailOperator: a task that sends one mail through an SMTP connection (Airflow's names and arguments)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tradewind.providers.smtp.hooks.smtp import SmtpHook
from tradewind.sdk.baseoperator import BaseOperator


class EmailOperator(BaseOperator):
    """Send an HTML mail to ``to`` (and ``cc``, ``bcc``) with ``files`` attached, through the connection
    ``conn_id``. Every argument but ``conn_id``'s type is templated; ``html_content`` may name an ``.html``
    template file. A missing sender, subject or body comes from the connection (``from_email``,
    ``subject_template``, ``html_content_template``), rendered with the task's context."""

    template_fields: Sequence[str] = (
        "to", "subject", "html_content", "from_email", "files", "cc", "bcc", "mime_subtype", "mime_charset",
        "conn_id", "custom_headers",
    )  # fmt: skip
    template_fields_renderers = {"html_content": "html"}
    template_ext: Sequence[str] = (".html",)
    ui_color = "#e6faf9"

    def __init__(
        self,
        *,
        to: str | list[str],
        subject: str | None = None,
        html_content: str | None = None,
        from_email: str | None = None,
        files: list[str] | None = None,
        cc: str | list[str] | None = None,
        bcc: str | list[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        conn_id: str = SmtpHook.default_conn_name,
        custom_headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.subject = subject
        self.html_content = html_content
        self.from_email = from_email
        self.files = files or []
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.conn_id = conn_id
        self.custom_headers = custom_headers

    def execute(self, context: Mapping[str, Any]) -> None:
        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            # What the connection supplies is a template too, rendered like the task's own fields.
            if self.subject is None and hook.subject_template:
                self.subject = self.render_template(hook.read_template(hook.subject_template, "subject_template"),
                                                    context)  # fmt: skip
            if self.html_content is None and hook.html_content_template:
                self.html_content = self.render_template(
                    hook.read_template(hook.html_content_template, "html_content_template"), context
                )
            hook.send_email_smtp(
                to=self.to,
                subject=self.subject,
                html_content=self.html_content,
                from_email=self.from_email,
                files=self.files,
                cc=self.cc,
                bcc=self.bcc,
                mime_subtype=self.mime_subtype,
                mime_charset=self.mime_charset,
                custom_headers=self.custom_headers,
            )
