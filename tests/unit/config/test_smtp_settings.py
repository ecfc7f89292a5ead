"""[smtp] and [email]: defaults, environment overrides, and no password setting (it lives in a connection)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.config.settings import load_settings
from tradewind.config.task_settings import secret_setting_names
from tradewind.sdk.errors import ConfigError


def test_defaults_and_env(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    smtp = settings.smtp
    assert (smtp.host, smtp.port, smtp.starttls, smtp.ssl, smtp.timeout, smtp.retry_limit, smtp.conn_id) == (
        "localhost", 25, False, False, 30.0, 5, "smtp_default",
    )  # fmt: skip
    assert settings.email.subject_template is None and settings.email.html_content_template is None
    monkeypatch.setenv("TRADEWIND__SMTP__PORT", "587")
    monkeypatch.setenv("TRADEWIND__SMTP__STARTTLS", "true")
    monkeypatch.setenv("TRADEWIND__EMAIL__SUBJECT_TEMPLATE", "/etc/tradewind/subject.j2")
    settings = load_settings()
    assert (settings.smtp.port, settings.smtp.starttls) == (587, True)
    assert settings.email.subject_template == Path("/etc/tradewind/subject.j2")
    # Nothing secret in these sections: task processes get them whole.
    assert not [s for s in secret_setting_names(settings) if s[0] in ("smtp", "email")]


def test_a_password_setting_is_refused_with_where_it_belongs(tw_home: Path) -> None:
    (tw_home / "tradewind.toml").write_text('[smtp]\nhost = "mail"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "no [smtp] password setting" in message and "TRADEWIND_CONN_SMTP_DEFAULT" in message
    assert "hunter2" not in message
