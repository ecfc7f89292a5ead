"""Fixtures: a fake Kubernetes cluster (API server + process kubelet) and official clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import config
from kubernetes.client import ApiClient, CoreV1Api

from tradewind.config.settings import KubernetesSettings
from tradewind.executors.kubernetes.executor import KubernetesExecutor
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


@pytest.fixture
def k8s_settings(fake_cluster: FakeCluster) -> KubernetesSettings:
    """Settings for an executor against the fake cluster: short timeouts so failure paths finish fast."""
    return KubernetesSettings(
        config_file=fake_cluster.kubeconfig_path,
        context=fake_cluster.context,
        image="python:3.11",
        worker_pods_pending_timeout=30,
        pod_creation_concurrency=4,
        pod_launch_retries=2,
        pod_relaunch_delay=0.2,
    )


@pytest.fixture
def make_executor(tmp_path: Path) -> Iterator[Callable[..., KubernetesExecutor]]:
    """Build and start executors; each is stopped at the end of the test (without waiting)."""
    started: list[KubernetesExecutor] = []

    def build(settings: KubernetesSettings, *, job_id: int | None = 1, log_folder: Path | None = None,
              **kwargs: object) -> KubernetesExecutor:
        executor = KubernetesExecutor(8, settings=settings, log_folder=log_folder or tmp_path / "logs",
                                      **kwargs)  # type: ignore[arg-type]
        executor.scheduler_job_id = job_id
        executor.start()
        started.append(executor)
        return executor

    yield build
    for executor in started:
        executor.stop(wait=False)
