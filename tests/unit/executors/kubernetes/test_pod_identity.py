"""Pod names and label values are valid Kubernetes names, readable, and tell tries apart."""

from __future__ import annotations

import re

import pytest

from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.pod_identity import (
    pod_name,
    safe_label_value,
    try_key_of,
    worker_annotations,
    worker_labels,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@pytest.mark.parametrize(
    ("dag_id", "task_id", "prefix"),
    [
        ("etl", "load", "etl-load-"),
        ("Sales.Report", "load_all", "sales-report-load-all-"),
        ("x" * 80, "t", "x"),
        ("d", "group.sub_task" * 10, "d-group-sub-task"),
        ("___", "!!!", "task-"),
    ],
)
def test_pod_names_are_readable_dns_labels(dag_id: str, task_id: str, prefix: str) -> None:
    name = pod_name(ExecuteTask(dag_id=dag_id, task_id=task_id, run_id="r"))
    assert DNS_LABEL.match(name) and len(name) <= 63
    assert name.startswith(prefix)


@pytest.mark.parametrize(
    "value",
    ["simple", "manual__2024-01-01T00:00:00+00:00", "x" * 100, "-leading", "a b c", "ünïcode", "_", "a" * 63],
)
def test_label_values_are_valid(value: str) -> None:
    safe = safe_label_value(value)
    assert LABEL_VALUE.match(safe) and len(safe) <= 63


def test_label_values_keep_valid_values_and_separate_changed_ones() -> None:
    assert safe_label_value("scheduled__2024") == "scheduled__2024"
    assert safe_label_value("a:b") != safe_label_value("a+b")  # both become a_b; the hash tells them apart


def test_try_key_round_trips_through_annotations() -> None:
    workload = ExecuteTask(dag_id="d", task_id="t", run_id="r:1", map_index=3, try_number=2)
    pod = {"metadata": {"labels": worker_labels(workload, "9"), "annotations": worker_annotations(workload, 1)}}
    assert try_key_of(pod) == workload.try_key
    assert try_key_of({"metadata": {"labels": {}, "annotations": {}}}) is None
