"""The one rule for secrets: which names are sensitive, and masking them in structures, JSON text and URLs."""

from __future__ import annotations

import json

import pytest

from tradewind.core.redaction import MASK, is_sensitive_name, mask_url, redact, redact_json_text, url_secrets


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "PASSWORD",
        "db_password",
        "db_passwords",
        "mysecrets",
        "adminpassword",
        "userpassword",
        "api_password",
        "ssh_key",
        "private_key",
        "my_auth",
        "X-Auth-Token",
        "Authorization",
        "apiKey",
        "openaiApiKey",
        "api_key",
        "aws_access_key_id",
        "aws_credentials",
        "slack_token",
        "db_passwd",
        "keyfile_dict",
    ],
)
def test_sensitive_names_match_anywhere_in_the_name(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize("name", ["dag_id", "keyboard", "monkey", "run_id", "variable", "bucket_name", "key"])
def test_ordinary_names(name: str) -> None:
    assert not is_sensitive_name(name)


def test_structures_are_masked_under_sensitive_keys_at_any_depth() -> None:
    masked = redact(
        {"conf": {"password": "hunter2", "table": "t"}, "items": [{"token": "abc"}, 3], "variable": "url"}
    )
    assert masked == {
        "conf": {"password": MASK, "table": "t"},
        "items": [{"token": MASK}, 3],
        "variable": "url",
    }


def test_a_top_level_list_of_dicts_is_masked() -> None:
    assert redact([{"user": "u", "db_passwords": ["a", "b"]}, "x"]) == [
        {"user": "u", "db_passwords": MASK},
        "x",
    ]
    text, hidden = redact_json_text(json.dumps([{"user": "u", "mysecrets": {"k": "v"}}]))
    assert hidden and json.loads(text) == [{"user": "u", "mysecrets": MASK}]


def test_json_text_is_masked_whole_under_a_sensitive_name_and_field_by_field_otherwise() -> None:
    assert redact_json_text("p", "db_password") == (MASK, True)
    assert redact_json_text("dvorak", "keyboard_layout") == ("dvorak", False)
    value, hidden = redact_json_text('{"user": "u", "password": "p"}', "conn")
    assert hidden and json.loads(value) == {"user": "u", "password": MASK}
    assert redact_json_text("[1, 2", "conn") == ("[1, 2", False)


def test_urls_lose_their_password_and_secret_query_parameters() -> None:
    url = (
        "postgresql://ada:hunter2@db.internal:5432/tw?sslmode=require&sslpassword=keypass&application_name=x"
    )
    masked = mask_url(url)
    assert "hunter2" not in masked and "keypass" not in masked
    assert masked.startswith("postgresql://ada:***@db.internal:5432/tw?")
    assert "sslmode=require" in masked and "sslpassword=***" in masked and "application_name=x" in masked
    assert mask_url("sqlite:////home/me/tradewind.db") == "sqlite:////home/me/tradewind.db"
    assert mask_url("not a url") == "not a url"
    assert sorted(url_secrets(url)) == ["hunter2", "keypass"]
    assert set(url_secrets("redis://:p%40ss@redis:6379/0")) == {"p%40ss", "p@ss"}
    assert mask_url("redis://:p%40ss@redis:6379/0") == "redis://:***@redis:6379/0"
