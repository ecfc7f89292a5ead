"""`tradewind kubernetes`: fake-cluster, list-pods and cleanup-pods."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import config
from kubernetes.client import CoreV1Api
from tests.integration.kubernetes.cluster_harness import (
    EventLog,
    pod_phase,
    python_workload,
    worker_pods,
)
from tests.waiting import wait_for
from tests.warm_cli import TRADEWIND

from tradewind.cli.main import main
from tradewind.config.settings import KubernetesSettings
from tradewind.core.log_paths import log_relative_path
from tradewind.executors.kubernetes.executor import KubernetesExecutor
from tradewind.store.engine import make_engine
from tradewind.store.migrate import upgrade
from tradewind.testing.fake_cluster import FakeCluster

HOLD = {"metadata": {"annotations": {"fake.tradewind.io/fault": "unschedulable"}}}


def test_fake_cluster_command_serves_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc.yaml"
    proc = subprocess.Popen(
        [TRADEWIND, "kubernetes", "fake-cluster", "--kubeconfig", str(kubeconfig), "--work-dir", str(tmp_path / "w")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        first_lines = [proc.stdout.readline() for _ in range(2)]
        assert first_lines[1].strip() == f"kubeconfig: {kubeconfig}"
        api = CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        assert "default" in [n.metadata.name for n in api.list_namespace().items]
        api.create_namespaced_pod("default", {"metadata": {"name": "hi"}, "spec": {"restartPolicy": "Never",
                                  "containers": [{"name": "base", "image": "x", "command": [sys.executable, "-c",
                                                                                           "print('from the kubelet')"]}]}})
        wait_for(lambda: pod_phase(api, "hi") == "Succeeded", what="the pod to run")
        assert api.read_namespaced_pod_log("hi", "default") == "from the kubelet\n"
        api.api_client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


@pytest.fixture
def cli_env(tw_home: Path, fake_cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tw_home / 'tradewind.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", url)
    monkeypatch.setenv("TRADEWIND__KUBERNETES__CONFIG_FILE", str(fake_cluster.kubeconfig_path))
    monkeypatch.setenv("TRADEWIND__KUBERNETES__CONTEXT", fake_cluster.context)
    return tw_home


def test_list_and_cleanup_pods(
    cli_env: Path, core_api: CoreV1Api, k8s_settings: KubernetesSettings,
    make_executor: Callable[..., KubernetesExecutor], capsys: pytest.CaptureFixture[str],
) -> None:
    executor = make_executor(k8s_settings.model_copy(update={"delete_worker_pods": False}),
                             log_folder=cli_env / "logs")
    events = EventLog(executor)
    held = python_workload("held", "print(1)", pod_override=HOLD)
    done = python_workload("done", "print('output worth keeping')")
    executor.queue_workload(held)
    executor.queue_workload(done)
    events.final(done.try_key)
    wait_for(lambda: worker_pods(core_api, selector="task_id=done,tradewind-kept=true"), what="done to be archived")
    executor.stop(wait=False)  # nobody tidies up any more: this is what cleanup-pods is for

    assert main(["kubernetes", "list-pods", "-o", "json"]) == 0
    rows = {r["task_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["held"]["phase"] == "Pending" and rows["held"]["reason"].startswith("Unschedulable")
    assert rows["done"]["phase"] == "Succeeded" and rows["done"]["try_number"] == 1

    assert main(["kubernetes", "cleanup-pods", "-o", "json"]) == 0  # without --yes: only shows
    shown = {r["task_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert shown["done"]["why"] == "finished" and shown["held"]["why"].startswith("orphaned")
    assert not any(r["deleted"] for r in shown.values())
    assert len(worker_pods(core_api)) == 2

    assert main(["kubernetes", "cleanup-pods", "--yes", "-o", "json"]) == 0
    capsys.readouterr()
    wait_for(lambda: not worker_pods(core_api), what="the pods to go")
    log = (cli_env / "logs" / log_relative_path(done.ti_key, 1)).read_text()
    assert log.count("output worth keeping") == 1  # archived once by the executor, not again by cleanup
