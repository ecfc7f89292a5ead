"""What helm's and kubectl's output means to us: error classes and exit codes, the forwarded port."""

from __future__ import annotations

import pytest

from tradewind.deploy.helm import classify_failure
from tradewind.deploy.kubectl import parse_forwarded_port
from tradewind.sdk.errors import ConfigError, DeploymentError, NotFoundError


def test_schema_failures_are_config_errors_naming_the_value() -> None:
    stderr = (
        "Error: values don't meet the specifications of the schema(s) in the following chart(s):\n"
        "tradewind:\n- at '/dags/mode': value must be one of 'persistent', 'git'\n"
        "- at '/scheduler/replicas': minimum: got 0, want 1\n"
    )
    error = classify_failure(stderr, action="render the chart")
    assert isinstance(error, ConfigError) and error.key == "dags.mode"
    assert "at '/dags/mode': value must be one of 'persistent', 'git'; at '/scheduler/replicas'" in str(error)


def test_template_failures_are_config_errors_with_the_chart_message() -> None:
    stderr = (
        "Error: execution error at (tradewind/templates/configmap.yaml:1:4): dags.mode is git but "
        "dags.gitSync.repo is empty: give the repository to clone (--git-repo)\n"
    )
    error = classify_failure(stderr, action="render the chart")
    assert isinstance(error, ConfigError) and error.key == "dags.mode"
    assert str(error) == (
        "chart values rejected: dags.mode is git but dags.gitSync.repo is empty: "
        "give the repository to clone (--git-repo)"
    )


def test_an_unreachable_cluster_is_a_failure_naming_the_cause() -> None:
    stderr = (
        'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": '
        "dial tcp 127.0.0.1:1: connect: connection refused\n"
    )
    error = classify_failure(stderr, action="install or upgrade release 'tw'")
    assert type(error) is DeploymentError
    assert "the Kubernetes cluster is unreachable" in str(error) and "KUBECONFIG" in str(error)


def test_an_unknown_release_is_not_found() -> None:
    error = classify_failure(
        "Error: uninstall: Release not loaded: tw: release: not found\n", action="uninstall release 'tw'"
    )
    assert isinstance(error, NotFoundError)


@pytest.mark.parametrize(
    ("line", "port"),
    [
        ("Forwarding from 127.0.0.1:41235 -> 8080\n", 41235),
        ("Forwarding from [::1]:41235 -> 8080\n", None),
        ("Handling connection for 41235\n", None),
    ],
)
def test_port_forward_output(line: str, port: int | None) -> None:
    assert parse_forwarded_port(line) == port
