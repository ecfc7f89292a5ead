"""A Tradewind deployment whose scheduler uses the Kubernetes executor against the fake cluster."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from kubernetes import config
from kubernetes.client import CoreV1Api
from tests.integration.scheduler.conftest import Deployment

from tradewind.testing.fake_cluster import FakeCluster

CONFIGMAP = "tradewind-config"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class KubernetesDeployment(Deployment):
    """Scheduler and CLI run here; each task try runs in a pod of the fake cluster, which sees the DAG and
    log folders as PersistentVolumeClaims and holds no database credentials: it reaches the execution API the
    scheduler serves (on a fixed port, so a scheduler that replaces a killed one serves the same URL)."""

    def __init__(self, home: Path, db_url: str) -> None:
        super().__init__(home, db_url)
        logs = home / "logs"
        self.cluster = FakeCluster(
            home / "cluster",
            claim_dirs={"tradewind-dags": self.dags, "tradewind-logs": logs},
            # The "image": tradewind on PATH, as the project's container image has it.
            image_env={"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        ).start()
        self.cluster.server.create_configmap("default", CONFIGMAP, {"TRADEWIND_HOME": str(home)})
        self.env.update({
            "TRADEWIND__CORE__EXECUTOR": "kubernetes",
            "TRADEWIND__KUBERNETES__CONFIG_FILE": str(self.cluster.kubeconfig_path),
            "TRADEWIND__KUBERNETES__CONTEXT": self.cluster.context,
            "TRADEWIND__KUBERNETES__IMAGE": "tradewind:test",
            "TRADEWIND__EXECUTION_API__SERVE_PORT": str(free_port()),
            "TRADEWIND__KUBERNETES__ENV_FROM_CONFIGMAP": CONFIGMAP,
            "TRADEWIND__KUBERNETES__DAGS_VOLUME_CLAIM": "tradewind-dags",
            "TRADEWIND__KUBERNETES__DAGS_MOUNT_PATH": str(self.dags),
            "TRADEWIND__KUBERNETES__LOGS_VOLUME_CLAIM": "tradewind-logs",
            "TRADEWIND__KUBERNETES__LOGS_MOUNT_PATH": str(logs),
        })
        self.core = CoreV1Api(config.new_client_from_config(config_file=str(self.cluster.kubeconfig_path)))

    def stop_all(self) -> None:
        try:
            super().stop_all()
        finally:
            self.core.api_client.close()
            self.cluster.stop()
