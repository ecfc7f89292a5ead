"""Secrets are masked in log lines and rendered fields."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tradewind.config.settings import load_settings
from tradewind.runner.secrets_masking import MASK, SecretsMasker, is_sensitive_name, masker_for_environment


def test_known_secret_values_are_masked_in_text() -> None:
    masker = SecretsMasker(["hunter22", "s3cr3t-token-value"])
    line = "connecting with password=hunter22 and token s3cr3t-token-value"
    assert masker.redact_text(line) == f"connecting with password={MASK} and token {MASK}"


def test_a_secret_containing_another_is_masked_whole() -> None:
    masker = SecretsMasker(["abcd", "abcdefgh"])
    assert masker.redact_text("x abcdefgh y") == f"x {MASK} y"


def test_very_short_values_are_not_treated_as_secrets() -> None:
    masker = SecretsMasker(["ab"])
    assert masker.redact_text("a bag of ab") == "a bag of ab"


def test_values_under_sensitive_names_are_masked_in_structures() -> None:
    masker = SecretsMasker(["hunter22"])
    rendered = {
        "bash_command": "psql -p hunter22",
        "env": {"DB_PASSWORD": "anything", "HOME": "/home/me"},
        "args": ["--pw", "hunter22"],
    }
    assert masker.redact(rendered) == {
        "bash_command": f"psql -p {MASK}",
        "env": {"DB_PASSWORD": MASK, "HOME": "/home/me"},
        "args": ["--pw", MASK],
    }


def test_sensitive_names() -> None:
    assert is_sensitive_name("db_password")
    assert is_sensitive_name("API_KEY")
    assert is_sensitive_name("slack_token")
    assert not is_sensitive_name("bucket_name")


def test_structured_secrets_register_each_string() -> None:
    masker = SecretsMasker()
    masker.add({"user": "admin-user", "nested": ["p4ssw0rd"]})
    assert masker.redact_text("admin-user:p4ssw0rd") == f"{MASK}:{MASK}"


def test_a_secret_learned_after_lines_were_masked_is_masked_from_then_on() -> None:
    masker = SecretsMasker(["first-secret"])
    assert masker.redact_text("first-secret second-secret") == f"{MASK} second-secret"
    masker.add("second-secret")  # e.g. a connection's password, read by the task while it runs
    assert masker.redact_text("first-secret second-secret") == f"{MASK} {MASK}"


def test_each_settings_object_is_masked_with_its_own_secrets(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__WEBSERVER__SECRET_KEY", "first-key-0000")
    first = load_settings()
    assert masker_for_environment(first).redact_text("first-key-0000") == MASK
    monkeypatch.delenv("TRADEWIND__WEBSERVER__SECRET_KEY")  # the next key is known only to its settings
    second = load_settings(webserver={"secret_key": "second-key-1111"})
    assert masker_for_environment(second).redact_text("second-key-1111") == MASK


def test_the_task_log_masker_knows_the_secrets_of_the_environment_and_settings(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tw_home / "tradewind.toml").write_text('[celery]\nbroker_url = "redis://:broker-pw-789@redis:6379/0"\n')
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", "postgresql://tw:db-pw-123@db/tw?sslpassword=ssl-pw-456")
    monkeypatch.setenv("TRADEWIND__WEBSERVER__SECRET_KEY", "signing-key-0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-111")
    monkeypatch.setenv("TRADEWIND_VAR_DB_PASSWORD", "var-secret-222")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("TRADEWIND__KUBERNETES__SERVICE_ACCOUNT_NAME", "default")
    masker = masker_for_environment(load_settings())
    # What a task printing its whole environment would write to its log.
    logged = masker.redact_text(repr(dict(os.environ)))
    for secret in ("db-pw-123", "ssl-pw-456", "signing-key-0000", "aws-secret-111", "var-secret-222"):
        assert secret not in logged
    assert masker.redact_text("broker redis://:broker-pw-789@redis") == f"broker redis://:{MASK}@redis"
    # Values of names that only look secret, and settings that are not secrets, stay readable.
    assert masker.redact_text("parallelism false, account default") == "parallelism false, account default"
