"""Worker pods get the remote logging settings (and no credentials) when remote logging is on."""

from __future__ import annotations

from dataclasses import replace

from tradewind.config.settings import LoggingSettings
from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.pod_spec import WorkerPodConfig, build_worker_pod, remote_logging_env
from tradewind.executors.kubernetes.pod_template import default_template

WORKLOAD = ExecuteTask(dag_id="d", task_id="t", run_id="r", try_number=1, token="tok", api_url="http://api")


def _env(config: WorkerPodConfig) -> dict[str, object]:
    pod = build_worker_pod(WORKLOAD, config, template=default_template(), owner="1")
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}


def test_worker_pods_get_the_remote_logging_settings() -> None:
    logging = LoggingSettings(
        remote_base_log_folder="s3://b/p", remote_log_conn_id="logs_s3", delete_local_logs=True
    )
    config = replace(WorkerPodConfig(image="img"), remote_logging=remote_logging_env(logging))
    env = _env(config)
    assert env["TRADEWIND__LOGGING__REMOTE_BASE_LOG_FOLDER"] == "s3://b/p"
    assert env["TRADEWIND__LOGGING__REMOTE_LOG_CONN_ID"] == "logs_s3"
    assert env["TRADEWIND__LOGGING__DELETE_LOCAL_LOGS"] == "true"
    assert not [name for name in env if name.startswith("TRADEWIND_CONN_")]


def test_no_remote_logging_env_when_it_is_off() -> None:
    assert remote_logging_env(LoggingSettings()) == {}
    assert not [n for n in _env(WorkerPodConfig(image="img")) if "REMOTE" in n]
