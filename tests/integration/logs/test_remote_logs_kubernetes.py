"""Remote log storage with the Kubernetes executor on the fake cluster, worker pods without any shared volume:
a running try's output is read from its pod through the API; after the pod is gone its archived log is read
from the store (moto's S3 server), even when the scheduler's local copy is gone too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.integration.kubernetes.deployment import KubernetesDeployment, free_port
from tests.integration.logs.conftest import S3Store, read_object
from tests.waiting import wait_for
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path

ADMIN = ("admin", "admin-pass-1")
CONN_ID = "logs_s3"
PREFIX = "k8s-logs"
DAG = """
    import time
    from datetime import datetime
    from pathlib import Path
    from tradewind import DAG, task

    GO = Path(__file__).parent / "go.flag"

    with DAG("podlogs", schedule=None, start_date=datetime(2026, 1, 1)):

        @task
        def hold():
            print("hold is waiting for the go flag", flush=True)
            deadline = time.monotonic() + 120
            while not GO.exists():  # the test creates it once it has read the line above through the API
                if time.monotonic() > deadline:
                    raise RuntimeError("no go flag")
                time.sleep(0.05)
            print("hold got the go flag")

        hold()
"""


class RemoteLoggingDeployment(KubernetesDeployment):
    """Pods mount nothing (the runner's log file stays on the pod's own disk); logs go to the S3 store."""

    def __init__(self, home: Path, db_url: str) -> None:
        super().__init__(home, db_url)
        self.pod_disk = home / "pod-local-disk"
        del self.env["TRADEWIND__KUBERNETES__DAGS_VOLUME_CLAIM"]
        del self.env["TRADEWIND__KUBERNETES__LOGS_VOLUME_CLAIM"]
        self.env["TRADEWIND__KUBERNETES__LOGS_MOUNT_PATH"] = str(self.pod_disk / "logs")


@pytest.fixture
def deployment(tw_home: Path, tmp_path: Path) -> Iterator[RemoteLoggingDeployment]:
    dep = RemoteLoggingDeployment(tw_home, f"sqlite:///{tmp_path / 'tradewind.db'}")
    try:
        yield dep
    finally:
        dep.stop_all()


def _api_log(base: str, run_id: str, token: str | None = None) -> dict[str, object]:
    response = httpx.get(
        f"{base}/api/v1/dags/podlogs/dagRuns/{run_id}/taskInstances/hold/logs/1",
        params={"token": token} if token else {},
        auth=ADMIN,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_running_pod_is_read_live_and_its_archived_log_from_the_store_after_it_is_gone(
    deployment: RemoteLoggingDeployment, s3_store: S3Store, bucket: str
) -> None:
    dep = deployment
    dep.env.update({
        "TRADEWIND__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{bucket}/{PREFIX}",
        "TRADEWIND__LOGGING__REMOTE_LOG_CONN_ID": CONN_ID,
        "TRADEWIND__CORE__FERNET_KEY": Fernet.generate_key().decode(),
    })  # fmt: skip
    dep.tw("connections", "add", CONN_ID, "--conn-json", s3_store.connection())
    dep.tw("users", "create", "--username", ADMIN[0], "--role", "admin", "--password", ADMIN[1])
    dep.write_dag("podlogs", DAG)
    dep.parse()
    port = free_port()
    dep.start("webserver", "--port", str(port), log_name="webserver")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(base), timeout=60, what="the webserver to answer", details=dep.dump_logs)
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "podlogs").stdout.strip()
    key = TaskInstanceKey("podlogs", run_id, "hold")
    scheduler_side = dep.home / "logs" / log_relative_path(key, 1)

    # While the try runs, nothing is on the webserver's disk: the API reads the pod's output.
    seen: dict[str, object] = {}

    def live() -> bool:
        seen.update(_api_log(base, run_id))
        return "hold is waiting for the go flag" in str(seen["content"])

    wait_for(live, timeout=90, what="hold's pod output through the API", details=dep.dump_logs)
    assert not scheduler_side.exists()
    assert seen["end_of_log"] is False
    (dep.dags / "go.flag").touch()
    assert dep.wait_run("podlogs", run_id, timeout=120) == "success", dep.dump_logs()

    object_key = f"{PREFIX}/{log_relative_path(key, 1)}"

    def archived() -> bool:
        text = read_object(s3_store, bucket, object_key)
        return text is not None and "--- end of output of pod" in text

    wait_for(archived, timeout=60, what="the pod's archived log in the bucket", details=dep.dump_logs)
    wait_for(lambda: not dep.core.list_namespaced_pod("default", label_selector="tradewind-worker=true").items,
               timeout=60, what="the worker pod to be deleted", details=dep.dump_logs)  # fmt: skip
    remote = read_object(s3_store, bucket, object_key)
    assert remote is not None and "hold got the go flag" in remote

    # The scheduler's copy is lost too (a new node): the API and the CLI read the store.
    scheduler_side.unlink()
    after = _api_log(base, run_id)
    assert "hold got the go flag" in str(after["content"]) and after["end_of_log"] is True
    assert "hold got the go flag" in dep.tw("tasks", "logs", "podlogs", "hold", run_id).stdout
    # A client that followed the pod goes on with the archive, from its start and saying so.
    moved = _api_log(base, run_id, token=str(seen["continuation_token"]))
    assert str(moved["content"]).startswith("*** the worker's live output has ended")
    assert s3_store.secret_key not in remote and s3_store.secret_key not in dep.dump_logs()


def _answers(base: str) -> bool:
    try:
        # A route loaded after /health (the webserver answers /health while it loads the rest).
        return httpx.get(base + "/api/v2/monitor/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
