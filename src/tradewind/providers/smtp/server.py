"""Where and how to reach a mail server (``SmtpServer``), read from an SMTP connection and its extras.

Extras, with Airflow's names: ``from_email``; ``disable_ssl`` (SMTPS is on unless it is true) and ``disable_tls``
(STARTTLS is on unless it is true; never both on one connection); ``timeout`` (seconds, 30); ``retry_limit`` (5);
``ssl_context`` (``default``: verify the server's certificate against the system's CAs, or ``SSL_CERT_FILE``;
``none``: do not verify); ``subject_template`` and ``html_content_template`` (files for a mail that has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError

_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off", ""}


@dataclass(frozen=True)
class SmtpServer:
    """A mail server and how to talk to it. The field names are those of ``[smtp]``; ``password`` is never in
    the repr."""

    host: str = "localhost"
    port: int | None = None  # None: 465 with ssl, else 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False
    starttls: bool = False
    timeout: float = 30.0
    retry_limit: int = 5
    mail_from: str | None = None
    verify: bool = True
    subject_template: str | None = None
    html_content_template: str | None = None

    @classmethod
    def from_settings(cls, smtp: Any) -> SmtpServer:
        """From the ``[smtp]`` settings section (any object with its attributes): no password, no connection."""
        return cls(
            host=smtp.host, port=smtp.port, user=smtp.user, ssl=smtp.ssl, starttls=smtp.starttls and not smtp.ssl,
            timeout=smtp.timeout, retry_limit=smtp.retry_limit, mail_from=smtp.mail_from,
        )  # fmt: skip

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port or (465 if self.ssl else 25)}"


def server_for(connection: Connection | None, defaults: SmtpServer | None) -> SmtpServer:
    """The server ``connection`` names. Without ``defaults``, Airflow's meaning (SMTPS unless ``disable_ssl``,
    else STARTTLS unless ``disable_tls``); with them, the connection overrides only what it sets."""
    if connection is None:
        if defaults is None:
            raise ValueError("server_for needs a connection or defaults")
        return defaults
    conn_id = connection.conn_id
    extra = connection.extra_dejson
    base = defaults or SmtpServer()
    own_flags = defaults is None
    ssl = not _flag(extra, "disable_ssl", conn_id) if own_flags or "disable_ssl" in extra else base.ssl
    starttls = (
        not _flag(extra, "disable_tls", conn_id) if own_flags or "disable_tls" in extra else base.starttls
    )
    return replace(
        base,
        host=connection.host or base.host,
        port=connection.port or base.port,
        user=connection.login or base.user,
        password=connection.password or base.password,
        ssl=ssl,
        starttls=starttls and not ssl,
        timeout=_number(extra, "timeout", base.timeout, conn_id, positive=True),
        retry_limit=int(_number(extra, "retry_limit", base.retry_limit, conn_id)),
        mail_from=extra.get("from_email") or base.mail_from,
        verify=_verify(extra, base.verify, conn_id),
        subject_template=extra.get("subject_template") or base.subject_template,
        html_content_template=extra.get("html_content_template") or base.html_content_template,
    )


def _flag(extra: dict[str, Any], key: str, conn_id: str | None) -> bool:
    value = extra.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConnectionFieldError(
        f"{key} must be true or false, got {value!r}", conn_id=conn_id, field=f"extra.{key}"
    )


def _number(
    extra: dict[str, Any], key: str, default: float, conn_id: str | None, *, positive: bool = False
) -> float:
    value = extra.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number < 0 or (positive and number == 0):
        kind = "a number above 0" if positive else "a number from 0"
        raise ConnectionFieldError(
            f"{key} must be {kind}, got {value!r}", conn_id=conn_id, field=f"extra.{key}"
        )
    return number


def _verify(extra: dict[str, Any], default: bool, conn_id: str | None) -> bool:
    value = extra.get("ssl_context")
    if value is None:
        return default
    if value == "default":
        return True
    if value == "none":
        return False
    raise ConnectionFieldError(
        f"ssl_context must be 'default' or 'none', got {value!r}", conn_id=conn_id, field="extra.ssl_context"
    )
