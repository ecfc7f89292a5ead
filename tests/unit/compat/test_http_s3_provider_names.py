"""Airflow's import paths of the HTTP and Amazon S3 providers are Tradewind's classes, and the hooks are found by
their connection types."""

from __future__ import annotations

import importlib

import pytest

from tradewind.config.settings import Settings
from tradewind.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from tradewind.providers.amazon.aws.hooks.s3 import S3Hook
from tradewind.providers.amazon.aws.sensors.s3 import S3KeySensor
from tradewind.providers.http.hooks.http import HttpHook
from tradewind.providers.http.operators.http import HttpOperator, SimpleHttpOperator
from tradewind.providers.http.sensors.http import HttpSensor
from tradewind.sdk.hook_registry import BUILTIN_HOOKS, hook_class_for


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        ("airflow.providers.http.hooks.http", "HttpHook", HttpHook),
        ("airflow.providers.http.operators.http", "HttpOperator", HttpOperator),
        ("airflow.providers.http.operators.http", "SimpleHttpOperator", SimpleHttpOperator),
        ("airflow.providers.http.sensors.http", "HttpSensor", HttpSensor),
        ("airflow.providers.amazon.aws.hooks.s3", "S3Hook", S3Hook),
        ("airflow.providers.amazon.aws.hooks.base_aws", "AwsBaseHook", AwsBaseHook),
        ("airflow.providers.amazon.aws.sensors.s3", "S3KeySensor", S3KeySensor),
    ],
)
def test_names(airflow_names: Settings, module: str, name: str, target: object) -> None:
    assert getattr(importlib.import_module(module), name) is target


@pytest.mark.parametrize(("conn_type", "hook"), [("http", HttpHook), ("aws", S3Hook)])
def test_builtin_hooks_by_conn_type(conn_type: str, hook: type) -> None:
    module, _, attribute = BUILTIN_HOOKS[conn_type].partition(":")
    assert getattr(importlib.import_module(module), attribute) is hook
    assert hook_class_for(conn_type, conn_id="x") is hook
