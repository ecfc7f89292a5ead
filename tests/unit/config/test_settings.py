"""Settings: TOML file under TRADEWIND_HOME, env vars TRADEWIND__SECTION__KEY winning, clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.warm_cli import TRADEWIND
from tradewind.config.settings import load_settings
from tradewind.sdk.errors import ConfigError


def test_defaults_live_under_home(tw_home: Path) -> None:
    s = load_settings()
    assert s.dags_folder == tw_home / "dags"
    assert s.base_log_folder == tw_home / "logs"
    assert s.database_url == f"sqlite:///{tw_home / 'tradewind.db'}"
    assert s.core.executor == "local"


def test_env_overrides_the_toml_file(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tw_home / "tradewind.toml").write_text('[core]\nparallelism = 4\nexecutor = "celery"\n')
    assert load_settings().core.parallelism == 4
    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "9")
    s = load_settings()
    assert (s.core.parallelism, s.core.executor) == (9, "celery")
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", "postgresql://u:pw@db/x")
    monkeypatch.setenv("TRADEWIND__LOGGING__BASE_LOG_FOLDER", "/var/log/tw")
    monkeypatch.setenv("TRADEWIND__CORE__DAGS_FOLDER", "/srv/dags")
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "true")
    monkeypatch.setenv("TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION", "false")
    s = load_settings()
    assert s.database_url == "postgresql://u:pw@db/x"
    assert s.base_log_folder == Path("/var/log/tw")
    assert s.dags_folder == Path("/srv/dags")
    assert s.core.load_examples is True and s.core.dags_are_paused_at_creation is False
    assert "pw" not in repr(s.database)


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("", {"TRADEWIND__CORE__PARALLELISM": "lots"}, "core.parallelism"),
        ("", {"TRADEWIND__CORE__EXECUTOR": "dask"}, "core.executor"),
        ("[core]\nparalelism = 3\n", {}, "core.paralelism"),
        ("[webserver]\nport = 70000\n", {}, "webserver.port"),
    ],
)
def test_invalid_config_names_the_key(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], named: str
) -> None:
    (tw_home / "tradewind.toml").write_text(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert named in str(info.value)


def test_a_command_with_bad_config_exits_2_naming_the_key(tw_home: Path) -> None:
    import os

    env = {**os.environ, "TRADEWIND__CORE__PARALLELISM": "-1"}
    out = subprocess.run([TRADEWIND, "scheduler"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "core.parallelism" in out.stderr and "TRADEWIND__CORE__PARALLELISM" in out.stderr


def test_broken_toml_is_reported_with_the_file(tw_home: Path) -> None:
    (tw_home / "tradewind.toml").write_text("[core\nparallelism = 3\n")
    with pytest.raises(ConfigError, match=r"tradewind\.toml"):
        load_settings()


def test_the_idle_safety_polls_default_long_and_are_set_like_any_setting(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ADR 0012: with nothing in flight the scheduler sleeps up to idle_poll_interval; the triggerer looks for
    # triggers every poll_interval when not woken.
    settings = load_settings()
    assert settings.scheduler.idle_poll_interval == 30.0 and settings.triggerer.poll_interval == 5.0
    (tw_home / "tradewind.toml").write_text("[scheduler]\nidle_poll_interval = 90\n")
    assert load_settings().scheduler.idle_poll_interval == 90.0
    monkeypatch.setenv("TRADEWIND__SCHEDULER__IDLE_POLL_INTERVAL", "0")
    with pytest.raises(ConfigError, match=r"scheduler\.idle_poll_interval"):
        load_settings()
