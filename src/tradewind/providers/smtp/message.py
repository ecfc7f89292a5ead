"""One mail as MIME: an HTML body, attachments, To/Cc headers (Bcc only among the recipients)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

_SEPARATORS = re.compile(r"\s*[,;]\s*")


def address_list(addresses: str | Iterable[str] | None) -> list[str]:
    """``"a@x, b@y; c@z"`` or an iterable of such strings, as one flat list without blanks."""
    if addresses is None:
        return []
    items = [addresses] if isinstance(addresses, str) else list(addresses)
    found: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"an email address must be a string, got {type(item).__name__}")
        found += [part for part in _SEPARATORS.split(item.strip()) if part]
    return found


@dataclass(frozen=True)
class Mail:
    message: MIMEMultipart
    sender: str
    #: Every address the server is asked to deliver to: To, Cc and Bcc.
    recipients: list[str]


def build_mail(
    *,
    sender: str,
    to: str | Iterable[str],
    subject: str,
    html_content: str,
    files: Iterable[str] | None = None,
    cc: str | Iterable[str] | None = None,
    bcc: str | Iterable[str] | None = None,
    mime_subtype: str = "mixed",
    mime_charset: str = "utf-8",
    custom_headers: Mapping[str, Any] | None = None,
) -> Mail:
    to_list, cc_list, bcc_list = address_list(to), address_list(cc), address_list(bcc)
    if not to_list and not cc_list and not bcc_list:
        raise ValueError("a mail needs at least one recipient (to, cc or bcc)")
    message = MIMEMultipart(mime_subtype)
    message["Subject"] = subject
    message["From"] = sender
    if to_list:
        message["To"] = ", ".join(to_list)
    if cc_list:
        message["Cc"] = ", ".join(cc_list)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message.attach(MIMEText(html_content, "html", mime_charset))
    for path in files or []:
        name = os.path.basename(path)
        with open(path, "rb") as handle:
            part = MIMEApplication(handle.read(), Name=name)
        part.add_header("Content-Disposition", "attachment", filename=name)
        part["Content-ID"] = f"<{name}>"
        message.attach(part)
    for header, value in (custom_headers or {}).items():
        message[header] = value
    return Mail(message, sender, to_list + cc_list + bcc_list)
