"""Drives apache-airflow-client 3.x against Tradewind's /api/v2 (run in the client's own virtualenv).

Reads {"url", "username", "password", "cron_dag", "manual_dag", "run_id"} as JSON on stdin, logs in through
POST /auth/token as Airflow 3's simple auth manager offers, and prints what the client returned as JSON.
Any client error (a missing field, a wrong type) fails the script."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

import airflow_client.client as ac
from airflow_client.client.api.connection_api import ConnectionApi
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.import_error_api import ImportErrorApi
from airflow_client.client.api.monitor_api import MonitorApi
from airflow_client.client.api.pool_api import PoolApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.variable_api import VariableApi
from airflow_client.client.api.version_api import VersionApi
from airflow_client.client.models.clear_task_instances_body import ClearTaskInstancesBody
from airflow_client.client.models.clear_task_instances_body_task_ids_inner import (
    ClearTaskInstancesBodyTaskIdsInner,
)
from airflow_client.client.models.connection_body import ConnectionBody
from airflow_client.client.models.dag_patch_body import DAGPatchBody
from airflow_client.client.models.dag_run_clear_body import DAGRunClearBody
from airflow_client.client.models.pool_body import PoolBody
from airflow_client.client.models.pool_patch_body import PoolPatchBody
from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody
from airflow_client.client.models.variable_body import VariableBody


def login(url: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        url + "/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
        return str(json.load(response)["access_token"])


def wait_for_run(runs: DagRunApi, dag_id: str, run_id: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = runs.get_dag_run(dag_id, run_id)
        if run.state.value in ("success", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.3)


def main() -> None:
    args = json.load(sys.stdin)
    token = login(args["url"], args["username"], args["password"])
    config = ac.Configuration(host=args["url"], access_token=token)
    out: dict[str, Any] = {}
    with ac.ApiClient(config) as client:
        dags = DAGApi(client)
        listed = dags.get_dags(limit=100)
        out["dags"] = {d.dag_id: d.timetable_summary for d in listed.dags}
        out["total_dags"] = listed.total_entries
        cron = dags.get_dag(args["cron_dag"])
        out["cron"] = {"periodic": cron.timetable_periodic, "tags": [t.name for t in cron.tags]}
        patched = dags.patch_dag(args["manual_dag"], DAGPatchBody(is_paused=True), update_mask=["is_paused"])
        out["patched_is_paused"] = patched.is_paused

        runs = DagRunApi(client)
        created = runs.trigger_dag_run(
            args["cron_dag"],
            TriggerDAGRunPostBody(dag_run_id=args["run_id"], logical_date=None, conf={"source": "v3"}),
        )
        out["triggered"] = {"run_id": created.dag_run_id, "state": created.state.value, "conf": created.conf}
        out["triggering_user"] = created.triggering_user_name
        finished = wait_for_run(runs, args["cron_dag"], args["run_id"])
        out["run_state"] = finished.state.value
        out["listed_run_ids"] = [r.dag_run_id for r in runs.get_dag_runs(args["cron_dag"]).dag_runs]

        tis = TaskInstanceApi(client)
        listed_tis = tis.get_task_instances(args["cron_dag"], args["run_id"])
        out["task_instances"] = {
            t.task_id: t.state.value if t.state else None for t in listed_tis.task_instances
        }
        hello = tis.get_task_instance(args["cron_dag"], args["run_id"], "hello")
        out["hello"] = {"id": str(hello.id), "try_number": hello.try_number, "state": hello.state.value}
        log = tis.get_log(args["cron_dag"], args["run_id"], "hello", 1, full_content=True)
        out["hello_log"] = [m.event for m in log.content.actual_instance]

        cleared = tis.post_clear_task_instances(
            args["cron_dag"],
            ClearTaskInstancesBody(
                dry_run=False,
                dag_run_id=args["run_id"],
                task_ids=[ClearTaskInstancesBodyTaskIdsInner("bye")],
                only_failed=False,
            ),
        )
        out["cleared"] = [t.task_id for t in cleared.task_instances]
        dry = runs.clear_dag_run(args["cron_dag"], args["run_id"], DAGRunClearBody(dry_run=True))
        out["dry_run_clear"] = sorted(t.actual_instance.task_id for t in dry.actual_instance.task_instances)

        errors = ImportErrorApi(client).get_import_errors()
        out["import_errors"] = [e.filename for e in errors.import_errors]

        variables = VariableApi(client)
        variables.post_variable(
            VariableBody(key="rest_v3_var", value="one", description="from the 3.x client")
        )
        variables.patch_variable("rest_v3_var", VariableBody(key="rest_v3_var", value={"n": 2}))
        out["variable"] = variables.get_variable("rest_v3_var").value
        out["variable_keys"] = [v.key for v in variables.get_variables().variables]
        variables.delete_variable("rest_v3_var")

        connections = ConnectionApi(client)
        body = ConnectionBody(
            connection_id="rest_v3_conn", conn_type="http", host="example.com", port=443, password=args["conn_password"],
            extra=json.dumps({"api_key": args["conn_password"], "timeout": 5}),
        )  # fmt: skip
        connections.post_connection(body)
        connections.patch_connection(
            "rest_v3_conn", ConnectionBody(connection_id="rest_v3_conn", conn_type="http", login="svc"),
            update_mask=["login"],
        )  # fmt: skip
        got = connections.get_connection("rest_v3_conn")
        out["connection"] = {
            "host": got.host, "login": got.login, "port": got.port, "password": got.password, "extra": got.extra,
        }  # fmt: skip
        listed_conns = connections.get_connections(order_by=["-connection_id"])
        out["connection_ids"] = [c.connection_id for c in listed_conns.connections]
        tested = connections.test_connection(
            ConnectionBody(connection_id="rest_v3_conn", conn_type="no_hook_type")
        )
        out["connection_test"] = {"status": tested.status, "message": tested.message}

        pools = PoolApi(client)
        pools.post_pool(PoolBody(name="rest_v3_pool", slots=2, description="from the 3.x client"))
        pools.patch_pool("rest_v3_pool", PoolPatchBody(slots=4), update_mask=["slots"])
        pool = pools.get_pool("rest_v3_pool")
        out["pool"] = {"slots": pool.slots, "description": pool.description}
        out["pool_names"] = [p.name for p in pools.get_pools().pools]
        pools.delete_pool("rest_v3_pool")

        out["health"] = MonitorApi(client).get_health().metadatabase.status
        out["version"] = VersionApi(client).get_version().version
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
