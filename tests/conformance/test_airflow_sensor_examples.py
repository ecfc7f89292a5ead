"""Airflow's own example DAGs for sensors and cross-DAG operators, unchanged, under `tradewind dags test`.

The files come from the example cache the conformance suite fills at test time (never from the repository).
`dags test` runs one try at a time, so waiting tasks run in reschedule mode there: a sensor waiting for a file
another task of the run creates, or a TriggerDagRunOperator waiting for the run it started, frees the only
slot between pokes. The two examples that poke for a minute (their poke_interval is 60 s) are marked slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.airflow_examples import example_folders

FILES = {
    "standard": [
        "example_sensors.py",
        "example_sensor_decorator.py",
        "example_external_task_marker_dag.py",
        "example_trigger_controller_dag.py",
        "example_external_task_parent_deferrable.py",
        "example_external_task_child_deferrable.py",
    ],
    "core": ["example_trigger_target_dag.py", "example_time_delta_sensor_async.py"],
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sensor-examples")
    dags = home / "dags"
    dags.mkdir()
    folders = example_folders()
    for name, files in FILES.items():
        for file in files:
            shutil.copy(folders[name] / file, dags / file)
    tw(home, "db", "migrate")
    tw(home, "dag-processor", "--once")
    return home


def tw(home: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWIND", "AIRFLOW"))}
    env.update(TRADEWIND_HOME=str(home), TRADEWIND__CORE__LOAD_EXAMPLES="false")
    tradewind = Path(sys.executable).with_name("tradewind")
    return subprocess.run([str(tradewind), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)  # fmt: skip


@pytest.mark.parametrize(
    "dag_id",
    [
        "example_sensor_decorator",
        "example_external_task_marker_parent",
        "example_trigger_controller_dag",
        # Waits out its own 30 s delta (no trigger to shorten it): opt-in, to keep the suite under 25 minutes.
        pytest.param("example_time_delta_sensor_async", marks=pytest.mark.slow),
        pytest.param("example_sensors", marks=pytest.mark.slow),
        pytest.param("example_external_task", marks=pytest.mark.slow),
    ],
)
def test_example_runs_green_under_dags_test(home: Path, dag_id: str) -> None:
    errors = tw(home, "dags", "list-import-errors", "-o", "json")
    assert errors.stdout.strip() in ("[]", ""), errors.stdout
    result = tw(home, "dags", "test", dag_id)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert ": success" in result.stdout.splitlines()[-1]
