"""``airflow.utils.email.send_email``: a mail through the ``[smtp]`` settings and the connection ``[smtp] conn_id``
(or ``conn_id``), as Airflow 2's function sends with its ``[smtp]`` section."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tradewind.compat.airflow.finder import AirflowNameFinder
from tradewind.config.settings import Settings, load_settings
from tradewind.providers.smtp.hooks.smtp import SmtpHook
from tradewind.providers.smtp.server import SmtpServer


def send_email(
    to: str | Iterable[str],
    subject: str,
    html_content: str,
    files: Iterable[str] | None = None,
    dryrun: bool = False,
    cc: str | Iterable[str] | None = None,
    bcc: str | Iterable[str] | None = None,
    mime_subtype: str = "mixed",
    mime_charset: str = "utf-8",
    conn_id: str | None = None,
    custom_headers: dict[str, Any] | None = None,
    from_email: str | None = None,
    **_: Any,
) -> None:
    smtp = _settings().smtp
    hook = SmtpHook(conn_id or smtp.conn_id, defaults=SmtpServer.from_settings(smtp))
    hook.send_email_smtp(
        to, subject, html_content, from_email=from_email, files=files, cc=cc, bcc=bcc, mime_subtype=mime_subtype,
        mime_charset=mime_charset, custom_headers=custom_headers, dryrun=dryrun,
    )  # fmt: skip


def _settings() -> Settings:
    installed = next((f for f in sys.meta_path if isinstance(f, AirflowNameFinder)), None)
    return installed.settings if installed is not None else load_settings()
