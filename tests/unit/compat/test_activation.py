"""The switch (``[core] airflow_compat``) and the real apache-airflow: never both, and said at start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unit.compat.conftest import forget_airflow_modules
from tests.warm_cli import TRADEWIND
from tradewind.compat.airflow.activation import AirflowNames, enable_airflow_names, installed_finder
from tradewind.compat.airflow.unsupported import AirflowNameNotSupported
from tradewind.config.settings import Settings, load_settings


def test_enabling_twice_installs_one_finder(airflow_names: Settings) -> None:
    assert enable_airflow_names(airflow_names) is AirflowNames.SERVED
    assert sum(1 for f in sys.meta_path if f is installed_finder()) == 1


def test_switched_off_import_airflow_fails_as_usual(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert enable_airflow_names(load_settings()) is AirflowNames.SERVED
    import airflow.sdk

    monkeypatch.setenv("TRADEWIND__CORE__AIRFLOW_COMPAT", "false")
    try:
        assert enable_airflow_names(load_settings()) is AirflowNames.SWITCHED_OFF
        assert installed_finder() is None
        with pytest.raises(ModuleNotFoundError) as info:
            import airflow  # noqa: F401
        assert not isinstance(info.value, AirflowNameNotSupported)
        assert info.value.name == "airflow"
    finally:
        finder = installed_finder()
        if finder is not None:
            sys.meta_path.remove(finder)
        forget_airflow_modules()


def _fake_airflow(root: Path) -> Path:
    package = root / "site" / "airflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("REAL = True\n")
    return package.parent


def test_real_airflow_on_the_path_is_left_alone(tw_home: Path, tmp_path: Path) -> None:
    site = _fake_airflow(tmp_path)
    script = textwrap.dedent(
        """
        from tradewind.compat.airflow.activation import enable_airflow_names, startup_notice
        from tradewind.config.settings import load_settings
        settings = load_settings()
        print(enable_airflow_names(settings).name)
        import airflow
        print(airflow.REAL)
        print(startup_notice(settings))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    state, real, notice = out.stdout.splitlines()
    assert (state, real) == ("REAL_AIRFLOW", "True")
    assert notice.startswith(f"apache-airflow is installed ({site / 'airflow' / '__init__.py'})")
    assert "compatibility layer is disabled" in notice


def test_an_airflow_namespace_without_airflow_is_not_the_real_airflow(tw_home: Path, tmp_path: Path) -> None:
    (tmp_path / "site" / "airflow" / "providers" / "leftover").mkdir(parents=True)
    script = "from tradewind.compat.airflow.activation import *; from tradewind.config.settings import load_settings\n"
    script += "print(enable_airflow_names(load_settings()).name)\nimport airflow.sdk\n"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "SERVED"


def test_dag_processor_says_so_at_start_and_dag_files_get_the_real_airflow(
    tw_home: Path, tmp_path: Path
) -> None:
    site = _fake_airflow(tmp_path)
    (tw_home / "dags" / "airflow_dag.py").write_text("from airflow.sdk import DAG\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    subprocess.run([TRADEWIND, "db", "migrate"], env=env, capture_output=True, check=True, timeout=120)
    out = subprocess.run(
        [TRADEWIND, "dag-processor", "--once", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "apache-airflow is installed" in out.stderr
    assert "compatibility layer is disabled" in out.stderr
    # The fake real Airflow has no airflow.sdk: the plain import error, not Tradewind's.
    assert out.returncode == 1
    assert "No module named 'airflow.sdk'" in out.stdout
    assert "not supported by Tradewind" not in out.stdout
