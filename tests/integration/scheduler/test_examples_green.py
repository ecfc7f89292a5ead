"""Every shipped example DAG runs green with the real scheduler and LocalExecutor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tradewind
from tests.integration.scheduler.conftest import Deployment

EXAMPLES = sorted(
    p.stem for p in (Path(tradewind.__file__).parent / "example_dags").glob("example_*.py")
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_example_dag_succeeds(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__CORE__LOAD_EXAMPLES"] = "true"
    deployment.env["TRADEWIND__CORE__PARALLELISM"] = "8"
    deployment.parse()
    listed = json.loads(deployment.tw("dags", "list", "-o", "json").stdout)
    dag_ids = {d["dag_id"] for d in listed}
    assert set(EXAMPLES) <= dag_ids, f"examples missing from `dags list`: {set(EXAMPLES) - dag_ids}"
    errors = json.loads(deployment.tw("dags", "list-import-errors", "-o", "json").stdout)
    assert errors == []
    deployment.start_scheduler()
    runs = {dag_id: deployment.tw("dags", "trigger", dag_id).stdout.strip() for dag_id in EXAMPLES}
    failed = {}
    for dag_id, run_id in runs.items():
        state = deployment.wait_run(dag_id, run_id, timeout=120)
        if state != "success":
            failed[dag_id] = deployment.tw("tasks", "states-for-dag-run", dag_id, run_id, "-o", "plain").stdout
    assert not failed, failed
