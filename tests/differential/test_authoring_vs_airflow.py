"""Setup/teardown tasks, edge labels and display names built by Tradewind and by Apache Airflow from the same
DAG bodies must agree: edges, setup/teardown flags, trigger rules, on_failure_fail_dagrun, display names,
edge labels, and which tasks a clear covers (Airflow's ``partial_subset`` against ``clear_scope``).

Airflow (pinned in tests/external_venvs.py) runs ``airflow_authoring_oracle.py`` in its own environment; the
bodies are in ``authoring_cases.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.differential.authoring_cases import CASES
from tests.external_venvs import AIRFLOW_ORACLE_REQUIREMENTS, ensure_venv, run_json
from tradewind.core.setup_teardown import clear_scope
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.chain import chain
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import setup, task, teardown
from tradewind.sdk.edges import Label
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.taskgroup import TaskGroup, task_group

ORACLE = Path(__file__).with_name("airflow_authoring_oracle.py")


class Op(BaseOperator):
    """A task that does nothing: only the structure matters here."""


NAMES: dict[str, Any] = {
    "DAG": DAG, "Op": Op, "Label": Label, "TaskGroup": TaskGroup, "chain": chain, "setup": setup,
    "task": task, "task_group": task_group, "teardown": teardown,
}  # fmt: skip


@pytest.fixture(scope="module")
def airflow_answers() -> dict[str, dict[str, Any]]:
    python = ensure_venv(AIRFLOW_ORACLE_REQUIREMENTS)
    answers = run_json(python, str(ORACLE), [{"id": k, "body": v} for k, v in CASES.items()])
    return {answer["id"]: answer for answer in answers}


def tradewind_answer(case_id: str) -> dict[str, Any]:
    scope = dict(NAMES)
    try:
        exec(compile(CASES[case_id], case_id, "exec"), scope)
    except DagDefinitionError as exc:
        return {"id": case_id, "error": type(exc).__name__}
    dag: DAG = scope["dag"]
    sdag = serialize_dag(dag, fileloc=f"/dags/{case_id}.py", relative_fileloc=f"{case_id}.py")
    tasks = {
        t.task_id: {
            "downstream": sorted(t.downstream),
            "is_setup": t.is_setup,
            "is_teardown": t.is_teardown,
            "trigger_rule": t.trigger_rule,
            "on_failure_fail_dagrun": t.on_failure_fail_dagrun,
            "display_name": t.display_name,
        }
        for t in sdag.tasks
    }
    clears = {
        tid: {
            "alone": sorted(clear_scope(sdag, [tid])),
            "downstream": sorted(clear_scope(sdag, [tid], include_downstream=True)),
        }
        for tid in tasks
    }
    return {
        "id": case_id,
        "tasks": tasks,
        "edge_info": sdag.edge_info,
        "display_name": sdag.display_name,
        "clears": clears,
    }


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_tradewind_builds_what_airflow_builds(case_id: str, airflow_answers: dict[str, Any]) -> None:
    theirs = airflow_answers[case_id]
    ours = tradewind_answer(case_id)
    if "error" in theirs or "error" in ours:
        assert ("error" in theirs) == ("error" in ours), (theirs, ours)
        return
    assert ours["tasks"] == theirs["tasks"]
    assert ours["edge_info"] == theirs["edge_info"]
    assert ours["display_name"] == theirs["display_name"]
    assert ours["clears"] == theirs["clears"]
