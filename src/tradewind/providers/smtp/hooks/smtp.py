"""SmtpHook: send mail through the SMTP server a connection names, on the standard library's smtplib (Airflow's
smtp provider: its conn_type, extras, method and property names; the extras are listed in ``smtp.server``).

Use it as a context manager (``with SmtpHook("smtp_default") as hook: hook.send_email_smtp(...)``) to send
several mails over one session; ``send_email_smtp`` outside one opens and closes a session itself. Failures
raise ``ExternalSystemError`` naming the connection, the server's address and its answer, never the password.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from tradewind.providers.smtp.message import Mail, build_mail
from tradewind.providers.smtp.server import SmtpServer, server_for
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError, NotFoundError
from tradewind.sdk.hooks.base import BaseHook

#: Seconds before trying a temporary refusal (4xx) again, doubled each time up to the cap.
RETRY_PAUSE, RETRY_PAUSE_CAP = 0.25, 4.0


class SmtpHook(BaseHook):
    """Mail through the server of the connection ``smtp_conn_id``. ``defaults`` (e.g. ``[smtp]``) fill in what
    the connection leaves out, and stand alone when the connection does not exist."""

    conn_name_attr = "smtp_conn_id"
    default_conn_name = "smtp_default"
    conn_type = "smtp"
    hook_name = "SMTP"

    def __init__(
        self,
        smtp_conn_id: str = default_conn_name,
        auth_type: str = "basic",
        *,
        defaults: SmtpServer | None = None,
    ) -> None:
        super().__init__()
        if auth_type != "basic":
            raise ConnectionFieldError(
                f"auth_type {auth_type!r} is not supported (only 'basic': the connection's login and password)",
                conn_id=smtp_conn_id,
                field="auth_type",
            )
        self.smtp_conn_id = smtp_conn_id
        self.defaults = defaults
        self.smtp_connection: Connection | None = None
        self._server: SmtpServer | None = None
        self._smtp_client: smtplib.SMTP | None = None

    # -- the session --------------------------------------------------------------------------------------
    def __enter__(self) -> SmtpHook:
        return self.get_conn()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get_conn(self) -> SmtpHook:
        """Open the session (connect, STARTTLS, log in) unless it is open; the hook itself, as Airflow's."""
        if self._smtp_client is None:
            self._smtp_client = self._connect()
        return self

    def close(self) -> None:
        client, self._smtp_client = self._smtp_client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    @property
    def server(self) -> SmtpServer:
        """The server and settings this hook uses, read from the connection once."""
        if self._server is None:
            try:
                self.smtp_connection = self.get_connection(self.smtp_conn_id)
            except NotFoundError:
                if self.defaults is None:
                    raise
            self._server = server_for(self.smtp_connection, self.defaults)
        return self._server

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        for attempt in range(server.retry_limit + 1):
            try:
                return self._open(server)
            except smtplib.SMTPServerDisconnected as exc:
                if attempt == server.retry_limit or _timed_out(exc):
                    raise self._failure("connect to", exc) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise self._failure("connect to", exc) from exc
        raise AssertionError("unreachable")

    def _open(self, server: SmtpServer) -> smtplib.SMTP:
        context = self._ssl_context(server)
        client: smtplib.SMTP
        if server.ssl:
            client = smtplib.SMTP_SSL(server.host, server.port or 0, timeout=server.timeout, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port or 0, timeout=server.timeout)
        try:
            if server.starttls:
                client.starttls(context=context)
                client.ehlo()
            if server.user and server.password:
                client.login(server.user, server.password)
        except BaseException:
            client.close()
            raise
        return client

    @staticmethod
    def _ssl_context(server: SmtpServer) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not server.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _failure(self, what: str, exc: BaseException) -> ExternalSystemError:
        status: int | None = None
        if isinstance(exc, smtplib.SMTPResponseException):
            status = exc.smtp_code
            answer = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            reason = f"{type(exc).__name__}: {exc.smtp_code} {answer}"
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            reason = "every recipient was refused: " + ", ".join(
                f"{address} ({code})" for address, (code, _answer) in exc.recipients.items()
            )
        else:
            reason = f"{type(exc).__name__}: {exc}"
        address = self._server.address if self._server is not None else "?"
        return ExternalSystemError(
            f"SMTP connection {self.smtp_conn_id!r}: cannot {what} the mail server {address}: {reason}",
            conn_id=self.smtp_conn_id,
            status=status,
        )

    # -- sending --------------------------------------------------------------------------------------
    def send_email_smtp(
        self,
        to: str | Iterable[str],
        subject: str | None = None,
        html_content: str | None = None,
        from_email: str | None = None,
        files: Iterable[str] | None = None,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        custom_headers: dict[str, Any] | None = None,
        *,
        dryrun: bool = False,
        **_: Any,
    ) -> None:
        """Send one HTML mail to ``to``, ``cc`` and ``bcc`` (a string of addresses separated by ``,`` or
        ``;``, or a list); ``files`` are attached. A missing subject or body comes from the connection's
        ``subject_template`` / ``html_content_template`` file; a missing sender from its ``from_email``."""
        mail = self._build(to, subject, html_content, from_email, files, cc, bcc, mime_subtype, mime_charset,
                           custom_headers)  # fmt: skip
        if dryrun:
            return
        if self._smtp_client is not None:
            self._send(mail)
            return
        with self:
            self._send(mail)

    def _build(
        self,
        to: str | Iterable[str],
        subject: str | None,
        html_content: str | None,
        from_email: str | None,
        files: Iterable[str] | None,
        cc: str | Iterable[str] | None,
        bcc: str | Iterable[str] | None,
        mime_subtype: str,
        mime_charset: str,
        custom_headers: dict[str, Any] | None,
    ) -> Mail:
        server = self.server
        sender = from_email or server.mail_from
        if not sender:
            raise ConnectionFieldError(
                "no sender: give from_email or set it in the connection's extra",
                conn_id=self.smtp_conn_id,
                field="extra.from_email",
            )
        return build_mail(
            sender=sender,
            to=to,
            subject=subject or self.read_template(server.subject_template, "subject_template"),
            html_content=html_content
            or self.read_template(server.html_content_template, "html_content_template"),
            files=files,
            cc=cc,
            bcc=bcc,
            mime_subtype=mime_subtype,
            mime_charset=mime_charset,
            custom_headers=custom_headers,
        )

    def read_template(self, path: str | None, key: str) -> str:
        what = key.removesuffix("_template")
        if not path:
            raise ConnectionFieldError(
                f"no {what}: give {what} or set {key} (a file) in the connection's extra",
                conn_id=self.smtp_conn_id,
                field=f"extra.{key}",
            )
        try:
            return Path(path).read_text(encoding="utf-8").replace("\n", "").strip()
        except OSError as exc:
            raise ConnectionFieldError(
                f"cannot read {key} {path}: {exc.strerror}", conn_id=self.smtp_conn_id, field=f"extra.{key}"
            ) from None

    def _send(self, mail: Mail) -> None:
        limit = self.server.retry_limit
        for attempt in range(limit + 1):
            assert self._smtp_client is not None
            try:
                refused = self._smtp_client.sendmail(mail.sender, mail.recipients, mail.message.as_string())
            except smtplib.SMTPServerDisconnected as exc:
                if attempt == limit or _timed_out(exc):
                    raise self._failure("send through", exc) from exc
                self.close()
                self.get_conn()
                continue
            except smtplib.SMTPResponseException as exc:
                if 400 <= exc.smtp_code < 500 and attempt < limit:  # a temporary refusal (busy, greylisting)
                    time.sleep(min(RETRY_PAUSE * 2**attempt, RETRY_PAUSE_CAP))
                    continue
                raise self._failure("send through", exc) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise self._failure("send through", exc) from exc
            if refused:
                self.log.warning("The mail server refused some recipients: %s", ", ".join(sorted(refused)))
            self.log.info(
                "Sent mail %r to %d recipient(s) through %s",
                mail.message["Subject"], len(mail.recipients) - len(refused), self.server.address,
            )  # fmt: skip
            return

    def test_connection(self) -> tuple[bool, str]:
        """Connect, log in and send NOOP: ``(True, message)`` or ``(False, reason)``."""
        try:
            with self:
                assert self._smtp_client is not None
                code, _answer = self._smtp_client.noop()
        except Exception as exc:
            return False, str(exc)
        if code != 250:
            return False, f"the mail server {self.server.address} answered NOOP with {code}"
        return True, f"Connection successfully tested: the mail server {self.server.address} answers"

    # -- Airflow's property names -----------------------------------------------------------------------
    @property
    def from_email(self) -> str | None:
        return self.server.mail_from

    @property
    def smtp_user(self) -> str:
        return self.server.user or ""

    @property
    def smtp_starttls(self) -> bool:
        return self.server.starttls

    @property
    def use_ssl(self) -> bool:
        return self.server.ssl

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int | None:
        return self.server.port

    @property
    def timeout(self) -> float:
        return self.server.timeout

    @property
    def smtp_retry_limit(self) -> int:
        return self.server.retry_limit

    @property
    def subject_template(self) -> str | None:
        return self.server.subject_template

    @property
    def html_content_template(self) -> str | None:
        return self.server.html_content_template

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema"],
            "relabeling": {"login": "SMTP user", "password": "SMTP password"},
            "placeholders": {
                "extra": '{"from_email": "alerts@example.com", "disable_ssl": true, "disable_tls": false}'
            },
        }


def _timed_out(exc: BaseException) -> bool:
    """A server that went silent past the timeout (smtplib reports it as a disconnect): trying again would
    only wait as long once more, so it is not retried."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
