"""Which server and options SmtpHook uses: Airflow's meaning for a bare connection, [smtp] defaults overridden
only by what the connection sets, and extras that cannot be read named by connection and field."""

from __future__ import annotations

import pytest

from tradewind.config.settings import SmtpSettings
from tradewind.providers.smtp.message import address_list, build_mail
from tradewind.providers.smtp.server import SmtpServer, server_for
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError


def test_bare_connection_means_smtps_as_in_airflow() -> None:
    server = server_for(Connection("m", uri="smtp://u:p%20w@mail.example.com:465?from_email=a%40b.c"), None)
    assert (server.host, server.port, server.user, server.password) == ("mail.example.com", 465, "u", "p w")
    assert server.ssl and not server.starttls and server.mail_from == "a@b.c"
    assert (server.timeout, server.retry_limit, server.verify) == (30.0, 5, True)
    assert "p w" not in repr(server)
    starttls = server_for(Connection("m", conn_type="smtp", host="h", extra={"disable_ssl": "true"}), None)
    assert not starttls.ssl and starttls.starttls
    plain = server_for(
        Connection("m", conn_type="smtp", extra={"disable_ssl": True, "disable_tls": True}), None
    )
    assert (plain.ssl, plain.starttls, plain.address) == (False, False, "localhost:25")


def test_settings_are_defaults_the_connection_overrides_only_where_it_speaks() -> None:
    defaults = SmtpServer.from_settings(
        SmtpSettings(
            host="relay.internal", port=587, starttls=True, user="tw", mail_from="tw@x.org", timeout=5
        )
    )
    only_secret = server_for(Connection("smtp_default", conn_type="smtp", password="s3cret"), defaults)
    assert (only_secret.host, only_secret.port, only_secret.user, only_secret.password) == (
        "relay.internal", 587, "tw", "s3cret",
    )  # fmt: skip
    assert (only_secret.starttls, only_secret.ssl, only_secret.timeout, only_secret.mail_from) == (
        True, False, 5, "tw@x.org",
    )  # fmt: skip
    full = server_for(
        Connection("smtp_default", conn_type="smtp", host="smtp.example.com", port=465, login="bot",
                   extra={"disable_ssl": False, "from_email": "bot@x.org", "timeout": "12", "retry_limit": 0}),
        defaults,
    )  # fmt: skip
    assert (full.host, full.port, full.user, full.ssl, full.starttls) == (
        "smtp.example.com",
        465,
        "bot",
        True,
        False,
    )
    assert (full.mail_from, full.timeout, full.retry_limit) == ("bot@x.org", 12.0, 0)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"disable_tls": "maybe"}, "extra.disable_tls"),
        ({"timeout": "soon"}, "extra.timeout"),
        ({"timeout": 0}, "extra.timeout"),
        ({"retry_limit": -1}, "extra.retry_limit"),
        ({"ssl_context": "strict"}, "extra.ssl_context"),
    ],
)
def test_unreadable_extras_name_connection_and_field(extra: dict[str, object], field: str) -> None:
    with pytest.raises(ConnectionFieldError) as caught:
        server_for(Connection("mail", conn_type="smtp", password="hunter2", extra=extra), None)
    assert (caught.value.conn_id, caught.value.field) == ("mail", field)
    assert "hunter2" not in str(caught.value)


def test_addresses_and_message_headers() -> None:
    assert address_list("a@x.org, b@x.org;c@x.org ;") == ["a@x.org", "b@x.org", "c@x.org"]
    assert address_list(["a@x.org", "b@x.org, c@x.org"]) == ["a@x.org", "b@x.org", "c@x.org"]
    assert address_list(None) == []
    mail = build_mail(sender="Tradewind <tw@x.org>", to="a@x.org", subject="Ünïcode ✓", html_content="<p>é</p>",
                      bcc="hidden@x.org", mime_charset="utf-8")  # fmt: skip
    assert mail.recipients == ["a@x.org", "hidden@x.org"] and "hidden" not in mail.message.as_string()
    assert mail.message["Message-ID"].endswith("@x.org>")
    with pytest.raises(ValueError, match="at least one recipient"):
        build_mail(sender="tw@x.org", to=[], subject="s", html_content="b")
