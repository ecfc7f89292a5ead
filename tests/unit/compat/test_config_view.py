"""``airflow.configuration.conf``: Tradewind's settings, read-only, through Airflow's getters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.config.settings import Settings
from tradewind.sdk.errors import ConfigError


@pytest.fixture
def conf_settings(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tw_home / "tradewind.toml").write_text("[core]\nparallelism = 8\n")
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "true")


def test_conf_reads_file_and_environment(conf_settings: None, airflow_names: Settings) -> None:
    from airflow.configuration import conf

    assert conf.getint("core", "parallelism") == 8
    assert conf.get("core", "parallelism") == "8"
    assert conf.getboolean("core", "load_examples") is True
    assert conf.get("CORE", "DAGS_FOLDER") == str(airflow_names.dags_folder)
    assert conf.has_option("core", "executor") and not conf.has_option("core", "sql_alchemy_conn")


def test_missing_options_use_the_fallback_or_name_the_key(
    conf_settings: None, airflow_names: Settings
) -> None:
    from airflow.configuration import conf

    assert conf.get("core", "killed_task_cleanup_time", fallback="60") == "60"
    assert conf.getboolean("webserver", "expose_config", fallback=False) is False
    with pytest.raises(ConfigError, match=r"\[core\] unit_test_mode") as info:
        conf.get("core", "unit_test_mode")
    assert info.value.key == "core.unit_test_mode"
    assert not hasattr(conf, "set")
