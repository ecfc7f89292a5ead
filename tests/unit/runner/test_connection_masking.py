"""Connection secrets a try reads never reach its log: passwords (also percent-encoded) and extra values under
secret-looking keys, whether read through the task runtime or defined in the environment in JSON form."""

from __future__ import annotations

import json

import pytest

from tradewind.runner.masked_runtime import masking_runtime
from tradewind.runner.secrets_masking import SecretsMasker, masker_for_environment
from tradewind.sdk.runtime import InMemoryRuntime


def test_connections_read_through_the_runtime_are_masked() -> None:
    inner = InMemoryRuntime()
    inner.connections["db"] = {
        "conn_type": "postgres", "login": "app", "password": "p@ss/word",
        "extra": {"api_token": "tok-123456", "region": "eu-west-1", "auth": {"client_secret": "cs-987654"}},
    }  # fmt: skip
    masker = SecretsMasker()
    runtime = masking_runtime(inner, masker)
    assert masker.redact_text("p@ss/word tok-123456") == "p@ss/word tok-123456"  # nothing known before
    assert runtime.get_connection("db")["login"] == "app"  # type: ignore[index]
    line = "p@ss/word p%40ss%2Fword tok-123456 cs-987654 eu-west-1 app"
    assert masker.redact_text(line) == "*** *** *** *** eu-west-1 app"
    assert runtime.get_connection("missing") is None


def test_json_form_connections_in_the_environment_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_API", json.dumps({"conn_type": "http", "password": "env-pw-1234"}))
    monkeypatch.setenv("AIRFLOW_CONN_OLD", "http://user:uri-pw-5678@host")
    masker = masker_for_environment()
    assert masker.redact_text("env-pw-1234 uri-pw-5678") == "*** ***"
