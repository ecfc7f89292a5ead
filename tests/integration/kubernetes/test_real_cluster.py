"""The end-to-end test against a real cluster (kind, minikube ...). Opt-in: skipped unless asked for.

    TRADEWIND_TEST_K8S_REAL=1 KUBECONFIG=~/.kube/config \\
    TRADEWIND_K8S_REAL_IMAGE=tradewind:dev \\
    TRADEWIND_K8S_REAL_DATABASE_URL=postgresql://user:pw@db-reachable-from-pods-and-here/tradewind \\
    .venv/bin/pytest -m k8s_real tests/integration/kubernetes/test_real_cluster.py

The image must have Tradewind installed and example_bash_operator.py in TRADEWIND_K8S_REAL_DAGS_PATH
(default /opt/tradewind/dags). Worker pods get the database URL from a Secret this test creates.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import config
from kubernetes.client import ApiException, CoreV1Api
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for

import tradewind.example_dags
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path

pytestmark = [
    pytest.mark.k8s_real,
    pytest.mark.skipif(
        not (os.environ.get("TRADEWIND_TEST_K8S_REAL") and os.environ.get("KUBECONFIG")
             and os.environ.get("TRADEWIND_K8S_REAL_IMAGE") and os.environ.get("TRADEWIND_K8S_REAL_DATABASE_URL")),
        reason="opt-in: set TRADEWIND_TEST_K8S_REAL=1, KUBECONFIG, TRADEWIND_K8S_REAL_IMAGE and "
        "TRADEWIND_K8S_REAL_DATABASE_URL",
    ),
]


@pytest.fixture
def real_deployment(tw_home: Path) -> Iterator[tuple[Deployment, CoreV1Api, str]]:
    db_url = os.environ["TRADEWIND_K8S_REAL_DATABASE_URL"]
    namespace = os.environ.get("TRADEWIND_K8S_REAL_NAMESPACE", "default")
    secret = f"tradewind-e2e-{uuid.uuid4().hex[:6]}"
    core = CoreV1Api(config.new_client_from_config(config_file=os.environ["KUBECONFIG"]))
    core.create_namespaced_secret(namespace, {"metadata": {"name": secret},
                                              "stringData": {"TRADEWIND__DATABASE__URL": db_url}})
    dep = Deployment(tw_home, db_url)
    dep.env.update({
        "TRADEWIND__CORE__EXECUTOR": "kubernetes",
        "TRADEWIND__KUBERNETES__CONFIG_FILE": os.environ["KUBECONFIG"],
        "TRADEWIND__KUBERNETES__NAMESPACE": namespace,
        "TRADEWIND__KUBERNETES__IMAGE": os.environ["TRADEWIND_K8S_REAL_IMAGE"],
        "TRADEWIND__KUBERNETES__ENV_FROM_SECRET": secret,
        "TRADEWIND__KUBERNETES__DAGS_MOUNT_PATH": os.environ.get("TRADEWIND_K8S_REAL_DAGS_PATH", "/opt/tradewind/dags"),
    })
    try:
        yield dep, core, namespace
    finally:
        dep.stop_all()
        with contextlib.suppress(ApiException):
            core.delete_namespaced_secret(secret, namespace)
        core.api_client.close()


def test_example_dag_runs_on_a_real_cluster(real_deployment: tuple[Deployment, CoreV1Api, str]) -> None:
    dep, core, namespace = real_deployment
    shutil.copy(Path(tradewind.example_dags.__file__).parent / "example_bash_operator.py", dep.dags)
    dep.parse()
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "example_bash_operator").stdout.strip()
    assert dep.wait_run("example_bash_operator", run_id, timeout=600) == "success", dep.dump_logs()
    log = (dep.home / "logs" / log_relative_path(TaskInstanceKey("example_bash_operator", run_id, "use_env"), 1))
    assert "greeting is hello from Tradewind" in log.read_text()  # saved from the pod before it was deleted
    wait_for(lambda: not core.list_namespaced_pod(namespace, label_selector="tradewind-worker=true,"
                                                    "dag_id=example_bash_operator").items,
               timeout=120, what="the finished pods to be deleted")
