"""Fixtures: a fake Kubernetes cluster (API server + process kubelet) and official clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import config
from kubernetes.client import ApiClient, CoreV1Api

from tradewind.testing.fake_cluster import FakeCluster


@pytest.fixture
def fake_cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    with FakeCluster(tmp_path / "cluster", history_size=200) as cluster:
        yield cluster


@pytest.fixture
def api_client(fake_cluster: FakeCluster) -> Iterator[ApiClient]:
    client = config.new_client_from_config(
        config_file=str(fake_cluster.kubeconfig_path), context=fake_cluster.context
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def core_api(api_client: ApiClient) -> CoreV1Api:
    return CoreV1Api(api_client)
