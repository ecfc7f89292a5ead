"""A DAG file written for Airflow, using the HTTP and S3 providers' Airflow import paths, run task by task by
the real `tradewind tasks run`, with its connections from TRADEWIND_CONN_ environment variables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.providers.conftest import S3Store
from tests.integration.providers.http.service import PASSWORD
from tests.integration.runner.harness import SQLITE_ONLY, RunnerEnv, runner_database, with_dag_file
from tradewind.config.settings import Settings
from tradewind.providers.amazon.aws.hooks.s3 import S3Hook

DAG_FILE = Path(__file__).with_name("dags") / "provider_tasks.py"


@pytest.fixture
def provider_env(
    settings: Settings, tw_home: Path, tmp_path: Path, base_url: str, store_conn: S3Store
) -> Iterator[RunnerEnv]:
    with runner_database(settings, tw_home, tmp_path) as env:
        env = with_dag_file(env, DAG_FILE)
        env.env["TRADEWIND_CONN_API"] = os.environ["TRADEWIND_CONN_API"]
        env.env["TRADEWIND_CONN_STORE"] = os.environ["TRADEWIND_CONN_STORE"]
        yield env


@SQLITE_ONLY
def test_http_operator_and_s3_hook_in_an_airflow_dag_file(
    provider_env: RunnerEnv, store_conn: S3Store
) -> None:
    env = provider_env
    env.queue("call_api")
    done = env.run("call_api")
    assert done.returncode == 0, done.stderr + env.log("call_api")
    assert env.ti("call_api").state == "success"
    assert env.xcom("call_api") == "2024-01-01"  # response_filter's value, from the templated query
    log = env.log("call_api")
    assert '"day":"2024-01-01"' in log.replace(" ", "")  # log_response
    assert PASSWORD not in log

    env.queue("check_fails")
    failed = env.run("check_fails")
    assert failed.returncode != 0
    assert env.ti("check_fails").state == "failed"
    assert "Response check returned False (task 'check_fails'" in env.log("check_fails")

    bucket = f"tw-{uuid.uuid4().hex[:12]}"
    env.env.update({"TW_TEST_BUCKET": bucket, "TW_TEST_DAY": "monday"})
    env.queue("s3_round_trip")
    done = env.run("s3_round_trip")
    assert done.returncode == 0, done.stderr + env.log("s3_round_trip")
    assert env.xcom("s3_round_trip") == "written by the runner on monday"
    assert S3Hook(aws_conn_id="store").read_key("runner/out.txt", bucket) == "written by the runner on monday"
    assert store_conn.secret_key not in env.log("s3_round_trip")
