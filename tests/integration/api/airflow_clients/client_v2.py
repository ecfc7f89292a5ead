"""Drives apache-airflow-client 2.x against Tradewind's /api/v1 (run in the client's own virtualenv).

Reads {"url", "username", "password", "cron_dag", "delta_dag", "manual_dag", "run_id"} as JSON on stdin and
prints what the client returned, as JSON, for the test to check. Any client error fails the script."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import airflow_client.client as ac
from airflow_client.client.api import (
    connection_api,
    dag_api,
    dag_run_api,
    import_error_api,
    monitoring_api,
    pool_api,
    task_instance_api,
    variable_api,
)
from airflow_client.client.model.clear_dag_run import ClearDagRun
from airflow_client.client.model.clear_task_instances import ClearTaskInstances
from airflow_client.client.model.connection import Connection
from airflow_client.client.model.dag import DAG
from airflow_client.client.model.dag_run import DAGRun
from airflow_client.client.model.pool import Pool
from airflow_client.client.model.variable import Variable


def wait_for_run(runs: dag_run_api.DAGRunApi, dag_id: str, run_id: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = runs.get_dag_run(dag_id, run_id)
        if str(run.state) in ("success", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.3)


def main() -> None:
    args = json.load(sys.stdin)
    config = ac.Configuration(
        host=args["url"] + "/api/v1", username=args["username"], password=args["password"]
    )
    out: dict[str, Any] = {}
    with ac.ApiClient(config) as client:
        dags = dag_api.DAGApi(client)
        listed = dags.get_dags(limit=100)
        out["dags"] = {
            d.dag_id: d.schedule_interval.to_dict() if d.schedule_interval else None for d in listed.dags
        }
        out["total_dags"] = listed.total_entries
        cron = dags.get_dag(args["cron_dag"])
        out["cron_schedule"] = cron.schedule_interval.to_dict()
        out["cron_has_import_errors"] = cron.has_import_errors
        out["delta_schedule"] = dags.get_dag(args["delta_dag"]).schedule_interval.to_dict()
        patched = dags.patch_dag(args["manual_dag"], DAG(is_paused=False), update_mask=["is_paused"])
        out["patched_is_paused"] = patched.is_paused
        details = dags.get_dag_details(args["cron_dag"])
        out["details_timezone"] = details.timezone

        runs = dag_run_api.DAGRunApi(client)
        created = runs.post_dag_run(
            args["cron_dag"], DAGRun(dag_run_id=args["run_id"], conf={"source": "v2"})
        )
        out["triggered"] = {"run_id": created.dag_run_id, "state": str(created.state), "conf": created.conf}
        finished = wait_for_run(runs, args["cron_dag"], args["run_id"])
        out["run_state"] = str(finished.state)
        listed_runs = runs.get_dag_runs(args["cron_dag"])
        out["listed_run_ids"] = [r.dag_run_id for r in listed_runs.dag_runs]

        tis = task_instance_api.TaskInstanceApi(client)
        listed_tis = tis.get_task_instances(args["cron_dag"], args["run_id"])
        out["task_instances"] = {t.task_id: str(t.state) for t in listed_tis.task_instances}
        hello = tis.get_task_instance(args["cron_dag"], args["run_id"], "hello")
        out["hello"] = {"try_number": hello.try_number, "hostname": hello.hostname, "state": str(hello.state)}
        log = tis.get_log(args["cron_dag"], args["run_id"], "hello", 1, full_content=True)
        out["hello_log"] = log.content

        cleared = dags.post_clear_task_instances(
            args["cron_dag"],
            ClearTaskInstances(dry_run=False, dag_run_id=args["run_id"], task_ids=["bye"], only_failed=False),
        )
        out["cleared"] = [t.task_id for t in cleared.task_instances]
        dry = runs.clear_dag_run(args["cron_dag"], args["run_id"], ClearDagRun(dry_run=True))
        out["dry_run_clear"] = sorted(t["task_id"] for t in dry["task_instances"])

        errors = import_error_api.ImportErrorApi(client).get_import_errors()
        out["import_errors"] = [e.filename for e in errors.import_errors]

        variables = variable_api.VariableApi(client)
        variables.post_variables(Variable(key="rest_v2_var", value="one", description="from the 2.x client"))
        variables.patch_variable("rest_v2_var", Variable(key="rest_v2_var", value="two"))
        out["variable"] = variables.get_variable("rest_v2_var").value
        out["variable_keys"] = [v.key for v in variables.get_variables().variables]
        variables.delete_variable("rest_v2_var")

        connections = connection_api.ConnectionApi(client)
        connections.post_connection(
            Connection(
                connection_id="rest_v2_conn", conn_type="http", host="example.com", port=443, login="bot",
                password=args["conn_password"], extra=json.dumps({"token": args["conn_password"], "verify": True}),
            )
        )  # fmt: skip
        connections.patch_connection(
            "rest_v2_conn", Connection(connection_id="rest_v2_conn", conn_type="http", host="api.example.com"),
            update_mask=["host"],
        )  # fmt: skip
        got = connections.get_connection("rest_v2_conn")
        out["connection"] = {"host": got.host, "port": got.port, "login": got.login, "extra": got.extra}
        out["connection_ids"] = [c.connection_id for c in connections.get_connections().connections]
        tested = connections.test_connection(
            Connection(connection_id="rest_v2_conn", conn_type="no_hook_type")
        )
        out["connection_test"] = {"status": tested.status, "message": tested.message}

        pools = pool_api.PoolApi(client)
        pools.post_pool(Pool(name="rest_v2_pool", slots=3))
        pools.patch_pool("rest_v2_pool", Pool(name="rest_v2_pool", slots=5))
        out["pool_slots"] = pools.get_pool("rest_v2_pool").slots
        out["pool_names"] = [p.name for p in pools.get_pools().pools]
        pools.delete_pool("rest_v2_pool")

        monitoring = monitoring_api.MonitoringApi(client)
        out["health"] = str(monitoring.get_health().metadatabase.status)
        out["version"] = monitoring.get_version().version
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
