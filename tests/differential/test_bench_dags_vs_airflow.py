"""The side-by-side benchmark (bench/airflow_side_by_side.py) compares like with like: each of its DAG files,
rewritten for Airflow, defines under Apache Airflow (pinned in tests/external_venvs.py, its own environment)
the same DAG as the original under Tradewind: same DAG id, same tasks, same operator classes, same edges.
"""

from __future__ import annotations

import functools
import importlib.util
import runpy
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.external_venvs import ensure_venv, run_json
from tradewind import DAG

BENCH = Path(__file__).resolve().parents[2] / "bench" / "airflow_side_by_side.py"

#: Runs inside Airflow's environment: the structure of every DAG each file defines, as JSON.
ORACLE = '''
import json, os, runpy, sys, tempfile
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-oracle-"))
from airflow.sdk import DAG

answer = {}
for path in json.load(sys.stdin)["files"]:
    for value in runpy.run_path(path).values():
        if isinstance(value, DAG):
            answer[value.dag_id] = {
                t.task_id: {"operator": type(t).__name__, "downstream": sorted(t.downstream_task_ids)}
                for t in value.tasks
            }
json.dump(answer, sys.stdout)
'''


@functools.cache
def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("airflow_side_by_side", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while they are built
    spec.loader.exec_module(module)
    return module


def _tradewind_structure(path: Path) -> dict[str, Any]:
    return {
        value.dag_id: {
            t.task_id: {"operator": type(t).__name__, "downstream": sorted(t.downstream_task_ids)}
            for t in value.tasks
        }
        for value in runpy.run_path(str(path)).values()
        if isinstance(value, DAG)
    }


@pytest.mark.timeout(900)
def test_bench_dags_define_the_same_dags_in_airflow(tmp_path: Path) -> None:
    bench = _bench()
    airflow_files, expected = [], {}
    for name, workload in bench.TIMED_WORKLOADS.items():
        original = tmp_path / f"tradewind_{name}.py"
        original.write_text(workload.source)
        expected.update(_tradewind_structure(original))
        rewritten = tmp_path / f"airflow_{name}.py"
        rewritten.write_text(bench.airflow_source(workload.source))
        assert "tradewind" not in rewritten.read_text()
        airflow_files.append(str(rewritten))
    assert set(expected) == {w.dag_id for w in bench.TIMED_WORKLOADS.values()}
    assert len(expected["bench_fanout_200"]) == 200 and len(expected["bench_chain_50"]) == 50

    oracle = tmp_path / "oracle.py"
    oracle.write_text(ORACLE)
    answer = run_json(ensure_venv(bench.AIRFLOW_REQUIREMENTS), str(oracle), {"files": airflow_files})

    assert answer == expected


def test_a_name_without_a_known_airflow_module_is_refused() -> None:
    with pytest.raises(ValueError, match="TriggerDagRunOperator"):
        _bench().airflow_source("from tradewind import DAG, TriggerDagRunOperator\n")
