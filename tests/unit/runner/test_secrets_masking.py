"""Secrets are masked in log lines and rendered fields."""

from __future__ import annotations

from tradewind.runner.secrets_masking import MASK, SecretsMasker, is_sensitive_name


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
