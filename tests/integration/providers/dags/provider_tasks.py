"""Tasks on the HTTP and S3 providers, written as for Airflow (Airflow's import paths, unchanged)."""

from __future__ import annotations

import os

import pendulum
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.http.operators.http import HttpOperator
from airflow.sdk import DAG, task


def day_seen(response):
    return response.json()["query"]["day"]


def never_good(response):
    return False


with DAG("provider_tasks", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    HttpOperator(
        task_id="call_api",
        http_conn_id="api",
        method="GET",
        endpoint="echo",
        data={"day": "{{ ds }}"},
        response_filter=day_seen,
        log_response=True,
    )
    HttpOperator(task_id="check_fails", http_conn_id="api", endpoint="echo", response_check=never_good)

    @task
    def s3_round_trip() -> str:
        hook = S3Hook(aws_conn_id="store")
        bucket = os.environ["TW_TEST_BUCKET"]
        hook.create_bucket(bucket)
        hook.load_string(
            "written by the runner on {}".format(os.environ["TW_TEST_DAY"]), "runner/out.txt", bucket
        )
        return hook.read_key(f"s3://{bucket}/runner/out.txt")

    s3_round_trip()
