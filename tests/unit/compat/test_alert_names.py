"""Airflow's import paths of mail, notifiers and the email operator are Tradewind's classes, and
``airflow.utils.email.send_email`` sends with the [smtp] settings."""

from __future__ import annotations

import importlib

import pytest

from tradewind.config.settings import Settings
from tradewind.providers.smtp.hooks.smtp import SmtpHook
from tradewind.providers.smtp.notifications.smtp import SmtpNotifier
from tradewind.providers.smtp.operators.smtp import EmailOperator
from tradewind.sdk.notifier import BaseNotifier


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        ("airflow.providers.smtp.hooks.smtp", "SmtpHook", SmtpHook),
        ("airflow.providers.smtp.operators.smtp", "EmailOperator", EmailOperator),
        ("airflow.operators.email", "EmailOperator", EmailOperator),
        ("airflow.providers.smtp.notifications.smtp", "SmtpNotifier", SmtpNotifier),
        ("airflow.providers.smtp.notifications.smtp", "send_smtp_notification", SmtpNotifier),
        ("airflow.notifications.basenotifier", "BaseNotifier", BaseNotifier),
        ("airflow.sdk", "BaseNotifier", BaseNotifier),
        ("airflow.sdk.bases.notifier", "BaseNotifier", BaseNotifier),
        ("airflow.providers.common.compat.notifier", "BaseNotifier", BaseNotifier),
    ],
)
def test_names(airflow_names: Settings, module: str, name: str, target: object) -> None:
    assert getattr(importlib.import_module(module), name) is target


def test_send_email_is_served_and_builds_the_mail_from_smtp_settings(
    airflow_names: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.utils.email import send_email  # type: ignore[import-not-found]

    monkeypatch.setenv("TRADEWIND_CONN_SMTP_DEFAULT", '{"conn_type": "smtp", "login": "u", "password": "p"}')
    # dryrun builds the whole message (sender from [smtp] mail_from) without a server.
    send_email("ana@example.com", "subject", "<p>body</p>", dryrun=True)
