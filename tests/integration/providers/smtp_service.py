"""A real SMTP server on 127.0.0.1 (aiosmtpd on a thread, on a free port) that keeps what it receives: plain,
STARTTLS or SMTPS with a self-signed certificate made here, and AUTH checked against one user and password."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "alerts-bot"
PASSWORD = "smtp-Pa55:w0rd/with@odd chars"

Mode = Literal["plain", "starttls", "ssl"]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, self.message.as_string()
        return str(part.get_content())

    def attachments(self) -> dict[str, bytes]:
        return {
            str(part.get_filename()): bytes(part.get_payload(decode=True))  # type: ignore[arg-type]
            for part in self.message.iter_attachments()
        }


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refused_logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else session.auth_data
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if login == USER and password == PASSWORD:
                return AuthResult(success=True, auth_data=login)
            self.refused_logins.append(login)
        return AuthResult(success=False, handled=False)


class _FreePortController(Controller):
    """Binds port 0 and learns the port the system gave before its readiness check connects."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpService:
    host: str
    port: int
    handler: _Handler
    cert_file: Path | None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM files in ``folder``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@contextmanager
def smtp_service(
    mode: Mode = "plain", *, tls_folder: Path | None = None, auth: bool = False
) -> Iterator[SmtpService]:
    """The server, started on a free port of 127.0.0.1; with ``auth``, AUTH LOGIN/PLAIN of USER is required
    before MAIL (and, in starttls mode, only after STARTTLS)."""
    handler = _Handler()
    cert_file = None
    server_context = None
    if mode != "plain":
        assert tls_folder is not None, "TLS modes need a folder for the certificate"
        cert_file, key_file = make_certificate(tls_folder)
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert_file, key_file)
    kwargs: dict[str, Any] = {}
    if auth:
        kwargs.update(
            authenticator=handler.authenticate, auth_required=True, auth_require_tls=mode == "starttls"
        )
    if mode == "starttls":
        kwargs.update(tls_context=server_context, require_starttls=True)
    controller = _FreePortController(
        handler,
        hostname="127.0.0.1",
        port=0,
        ssl_context=server_context if mode == "ssl" else None,
        ready_timeout=10.0,
        **kwargs,
    )
    controller.start()
    try:
        yield SmtpService("127.0.0.1", controller.port, handler, cert_file)
    finally:
        controller.stop()
