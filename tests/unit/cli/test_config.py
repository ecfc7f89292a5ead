"""`tradewind config show` in process (``main(argv)``)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.unit.cli.console import tradewind


def test_show_prints_effective_settings_as_toml(tw_home: Path) -> None:
    (tw_home / "tradewind.toml").write_text("[core]\nparallelism = 7\n")
    result = tradewind("config", "show")
    assert result.returncode == 0, result.stderr
    data = tomllib.loads(result.stdout)
    assert data["home"] == str(tw_home)
    assert data["core"]["parallelism"] == 7
    assert data["core"]["dags_folder"] == str(tw_home / "dags")
    assert data["database"]["url"] == f"sqlite:///{tw_home / 'tradewind.db'}"
    assert {"core", "database", "logging", "scheduler", "webserver", "celery", "kubernetes"} <= set(data)


def test_show_masks_every_secret(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TRADEWIND__DATABASE__URL",
        "postgresql://ada:hunter2@db.internal:5432/tw?sslmode=verify-full&sslpassword=k3ypass",
    )
    monkeypatch.setenv("TRADEWIND__WEBSERVER__SECRET_KEY", "s3cr3t-signing-key")
    monkeypatch.setenv("TRADEWIND__CELERY__BROKER_URL", "redis://:brokerpw@redis:6379/0")
    monkeypatch.setenv(
        "TRADEWIND__KUBERNETES__WORKER_ANNOTATIONS", '{"vault-token": "v4ult", "team": "data"}'
    )
    toml_out = tradewind("config", "show")
    json_out = tradewind("config", "show", "-o", "json")
    for result in (toml_out, json_out):
        assert result.returncode == 0, result.stderr
        for secret in ("hunter2", "k3ypass", "s3cr3t-signing-key", "brokerpw", "v4ult"):
            assert secret not in result.stdout
    data = json.loads(json_out.stdout)
    assert (
        data["database"]["url"]
        == "postgresql://ada:***@db.internal:5432/tw?sslmode=verify-full&sslpassword=***"
    )
    assert data["webserver"]["secret_key"] == "***"
    assert data["celery"]["broker_url"] == "***"
    assert data["kubernetes"]["worker_annotations"] == {"vault-token": "***", "team": "data"}


def test_one_section_as_json(tw_home: Path) -> None:
    result = tradewind("config", "show", "--section", "scheduler", "-o", "json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert list(data) == ["scheduler"]
    assert data["scheduler"]["loop_interval"] == 1.0


def test_bad_section_and_invalid_config_exit_2(tw_home: Path) -> None:
    assert tradewind("config", "show", "--section", "nope").returncode == 2
    (tw_home / "tradewind.toml").write_text("[core]\nparallelism = 0\n")
    invalid = tradewind("config", "show")
    assert invalid.returncode == 2
    assert "core.parallelism" in invalid.stderr


def test_bad_value_names_the_file_line_or_the_variable_it_came_from(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tw_home / "tradewind.toml"
    config.write_text('[core]\nload_examples = false\nparallelism = "lots"\n')
    from_file = tradewind("dags", "list")
    assert from_file.returncode == 2
    assert f"core.parallelism ({config} line 3): Input should be a valid integer" in from_file.stderr
    assert "env TRADEWIND__CORE__PARALLELISM" not in from_file.stderr

    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "many")
    from_env = tradewind("dags", "list")
    assert from_env.returncode == 2
    assert "core.parallelism (env TRADEWIND__CORE__PARALLELISM): Input should be a valid integer" in from_env.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url at all", "not a database URL"),
        ("mysqlx://ada:hunter2@db.internal/tw", "unknown database driver 'mysqlx'"),
    ],
)
def test_unusable_database_url_is_a_configuration_error(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", url)
    result = tradewind("dags", "list")
    assert result.returncode == 2, result.stderr  # a configuration error, as every other bad setting
    assert f"database.url (env TRADEWIND__DATABASE__URL): {says}" in result.stderr
    assert "hunter2" not in result.stderr
