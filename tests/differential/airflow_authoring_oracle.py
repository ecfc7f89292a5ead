"""Run inside a virtual environment holding Apache Airflow (never Tradewind): read DAG-building cases as
JSON on stdin, build each with Airflow's own SDK, and answer with the structure Airflow made, as JSON.

Each case is a DAG body (Python source defining ``dag``) written against a small set of names the caller
also provides on the Tradewind side. The answer gives, per task: downstream ids, setup/teardown flags, the
trigger rule, on_failure_fail_dagrun and the display name; the DAG's edge info and display name; and for
each task the ids Airflow's clear would cover (``partial_subset`` without upstream, with and without
downstream).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-oracle-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow.sdk import DAG, BaseOperator, Label, TaskGroup, chain, setup, task, task_group, teardown


class Op(BaseOperator):
    """A task that does nothing: only the structure matters here."""


NAMES = {
    "DAG": DAG, "Op": Op, "Label": Label, "TaskGroup": TaskGroup, "chain": chain, "setup": setup,
    "task": task, "task_group": task_group, "teardown": teardown,
}  # fmt: skip


def answer(case: dict) -> dict:
    scope = dict(NAMES)
    try:
        exec(compile(case["body"], case["id"], "exec"), scope)
    except Exception as exc:  # an error is an answer too: Tradewind must refuse the same DAG
        return {"id": case["id"], "error": type(exc).__name__}
    dag = scope["dag"]
    tasks = {
        t.task_id: {
            "downstream": sorted(t.downstream_task_ids),
            "is_setup": bool(t.is_setup),
            "is_teardown": bool(t.is_teardown),
            "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
            "on_failure_fail_dagrun": bool(t.on_failure_fail_dagrun),
            "display_name": t.task_display_name,
        }
        for t in dag.tasks
    }
    clears = {
        tid: {
            "alone": sorted(
                dag.partial_subset([tid], include_downstream=False, include_upstream=False).task_ids
            ),
            "downstream": sorted(
                dag.partial_subset([tid], include_downstream=True, include_upstream=False).task_ids
            ),
        }
        for tid in tasks
    }
    return {
        "id": case["id"],
        "tasks": tasks,
        "edge_info": {up: dict(downs) for up, downs in dag.edge_info.items() if downs},
        "display_name": dag.dag_display_name,
        "clears": clears,
    }


if __name__ == "__main__":
    json.dump([answer(case) for case in json.load(sys.stdin)], sys.stdout)
