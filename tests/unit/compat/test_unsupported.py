"""A DAG file using an Airflow name Tradewind does not serve fails with the name, the file and the line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tradewind.config.settings import Settings
from tradewind.sdk.loading import load_dags_from_file


def _load_error(path: Path, source: str) -> tuple[str, int | None]:
    path.write_text(textwrap.dedent(source))
    result = load_dags_from_file(path)
    assert not result.dags and len(result.errors) == 1
    return str(result.errors[0]), result.errors[0].lineno


@pytest.mark.parametrize(
    ("statement", "name"),
    [
        (
            "from airflow.providers.google.cloud.hooks.gcs import GCSHook",
            "airflow.providers.google.cloud.hooks.gcs",
        ),
        ("import airflow.contrib.operators.ssh_operator", "airflow.contrib.operators.ssh_operator"),
        (
            "from airflow.operators.bash import BashSensorThatDoesNotExist",
            "airflow.operators.bash.BashSensorThatDoesNotExist",
        ),
        ("from airflow.models import XCom", "airflow.models.XCom"),
    ],
)
def test_unsupported_name_names_itself_the_file_and_the_line(
    airflow_names: Settings, tmp_path: Path, statement: str, name: str
) -> None:
    path = tmp_path / "legacy_dag.py"
    message, lineno = _load_error(path, f"from airflow.sdk import DAG\n\n{statement}\n")
    assert f"AirflowNameNotSupported: {name} is not supported by Tradewind (imported at {path}:3)" == message
    assert lineno == 3


def test_a_helper_module_beside_the_dag_is_blamed_at_its_own_line(
    airflow_names: Settings, tmp_path: Path
) -> None:
    (tmp_path / "shared_operators_for_compat_test.py").write_text(
        "import os\nimport airflow.contrib.hooks.ssh_hook\n"
    )
    path = tmp_path / "uses_helper.py"
    try:
        path.write_text("from airflow import DAG\nimport shared_operators_for_compat_test\n")
        result = load_dags_from_file(path, dags_folder=tmp_path)
    finally:
        import sys

        sys.path.remove(str(tmp_path))
        sys.modules.pop("shared_operators_for_compat_test", None)
    assert "airflow.contrib.hooks.ssh_hook is not supported by Tradewind" in str(result.errors[0])
    assert "shared_operators_for_compat_test.py:2" in str(result.errors[0])
    assert result.errors[0].lineno == 2


def test_asset_access_controls_are_not_supported_yet(airflow_names: Settings, tmp_path: Path) -> None:
    message, lineno = _load_error(
        tmp_path / "assets.py", "import pendulum\nfrom airflow.sdk import DAG, AssetAccessControl\n"
    )
    assert (
        "airflow.sdk.AssetAccessControl is not supported by Tradewind yet (asset access controls come in a later release)"
        in message
    )
    assert lineno == 2


def test_user_code_may_catch_it_as_an_import_error(airflow_names: Settings, tmp_path: Path) -> None:
    path = tmp_path / "optional.py"
    path.write_text(
        textwrap.dedent(
            """
            from airflow.sdk import DAG
            from airflow.providers.standard.operators.empty import EmptyOperator
            try:
                from airflow.providers.slack.operators.slack import SlackAPIPostOperator
            except ImportError:
                SlackAPIPostOperator = None
            with DAG("optional_slack", schedule=None):
                EmptyOperator(task_id="e")
            """
        )
    )
    result = load_dags_from_file(path)
    assert result.errors == [] and [d.dag_id for d in result.dags] == ["optional_slack"]


def test_a_probe_for_a_module_gets_none_not_an_error(airflow_names: Settings) -> None:
    import importlib.util

    assert importlib.util.find_spec("airflow.providers.openlineage") is None
    assert importlib.util.find_spec("airflow.datasets") is not None
    assert importlib.util.find_spec("airflow.providers.standard.operators.bash") is not None
