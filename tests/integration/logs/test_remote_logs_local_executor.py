"""Remote log storage end to end with the real scheduler and LocalExecutor runners against moto's S3 server:
each try's log is uploaded when it ends (success or failure), read back by the REST API (v1, v2) and
`tradewind tasks logs` once the local file is gone; a failed upload keeps the local file and never fails the
task; delete_local_logs; the connection's secret never reaches a log."""

from __future__ import annotations

import base64
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

# Starlette suggests another client package; httpx is the one this project uses.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from tests.cheap_password_hashes import cheap_hash  # noqa: E402
from tests.integration.logs.conftest import S3Store, read_object  # noqa: E402
from tests.integration.scheduler.conftest import Deployment  # noqa: E402
from tests.waiting import wait_for  # noqa: E402
from tradewind.api.app import create_app  # noqa: E402
from tradewind.core.keys import TaskInstanceKey  # noqa: E402
from tradewind.core.log_paths import log_relative_path  # noqa: E402
from tradewind.store import task_instances, users  # noqa: E402
from tradewind.store.engine import transaction  # noqa: E402

CONN_ID = "logs_s3"
PREFIX = "task-logs"
DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("shipping", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="ok", bash_command="echo shipped-marker-$((40 + 2))")
    BashOperator(task_id="bad", bash_command="echo failing-marker-$((6 * 7)); exit 3")
"""


@pytest.fixture
def deployment(tw_home: Path, tmp_path: Path) -> Iterator[Deployment]:
    dep = Deployment(tw_home, f"sqlite:///{tmp_path / 'tradewind.db'}")
    try:
        yield dep
    finally:
        dep.stop_all()


def _remote_logging(dep: Deployment, store: S3Store, bucket: str, *, delete_local: bool = False) -> None:
    dep.env["TRADEWIND__LOGGING__REMOTE_BASE_LOG_FOLDER"] = f"s3://{bucket}/{PREFIX}"
    dep.env["TRADEWIND__LOGGING__REMOTE_LOG_CONN_ID"] = CONN_ID
    dep.env["TRADEWIND__LOGGING__DELETE_LOCAL_LOGS"] = "true" if delete_local else "false"
    # Stored in the metadata database: runners reach it only through the execution API.
    dep.env["TRADEWIND__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    dep.tw("connections", "add", CONN_ID, "--conn-json", store.connection())


def _run(dep: Deployment) -> str:
    dep.write_dag("shipping", DAG)
    dep.parse()
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "shipping").stdout.strip()
    assert dep.wait_run("shipping", run_id) == "failed", dep.dump_logs()
    return run_id


def _key(run_id: str, task_id: str) -> str:
    return f"{PREFIX}/{log_relative_path(TaskInstanceKey('shipping', run_id, task_id), 1)}"


def _local(dep: Deployment, run_id: str, task_id: str) -> Path:
    return dep.home / "logs" / log_relative_path(TaskInstanceKey("shipping", run_id, task_id), 1)


def _api(dep: Deployment) -> TestClient:
    with transaction(dep.sessions) as session:
        users.create_user(session=session, username="reader", password_hash=cheap_hash("reader-pass-1"),
                          role="viewer")  # fmt: skip
    auth = base64.b64encode(b"reader:reader-pass-1").decode()
    client = TestClient(create_app(dep.settings()), headers={"authorization": f"Basic {auth}"})
    return client


def test_logs_of_successful_and_failed_tries_are_uploaded_and_read_back_from_the_store(
    deployment: Deployment, s3_store: S3Store, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _remote_logging(deployment, s3_store, bucket)
    run_id = _run(deployment)
    uploaded: dict[str, str] = {}

    def both_uploaded() -> bool:
        for task_id in ("ok", "bad"):
            text = read_object(s3_store, bucket, _key(run_id, task_id))
            if text is None or "Marking task as" not in text:
                return False
            uploaded[task_id] = text
        return True

    wait_for(both_uploaded, timeout=30, what="both logs in the bucket", details=deployment.dump_logs)
    assert "shipped-marker-42" in uploaded["ok"] and "Marking task as SUCCESS" in uploaded["ok"]
    assert "failing-marker-42" in uploaded["bad"] and "Marking task as FAILED" in uploaded["bad"]

    # The local files are gone (another machine, a lost volume): every reader goes to the store.
    for task_id in ("ok", "bad"):
        _local(deployment, run_id, task_id).unlink()
    cli = deployment.tw("tasks", "logs", "shipping", "ok", run_id)
    assert "shipped-marker-42" in cli.stdout
    followed = deployment.tw("tasks", "logs", "shipping", "bad", run_id, "--follow")
    assert "failing-marker-42" in followed.stdout

    for key in list(os.environ):
        if key.startswith("TRADEWIND"):
            monkeypatch.delenv(key)
    for name, value in deployment.env.items():
        if name.startswith("TRADEWIND"):
            monkeypatch.setenv(name, value)
    with _api(deployment) as client:
        v1 = client.get(f"/api/v1/dags/shipping/dagRuns/{run_id}/taskInstances/ok/logs/1")
        assert v1.status_code == 200, v1.text
        assert "shipped-marker-42" in v1.json()["content"] and v1.json()["end_of_log"] is True
        v2 = client.get(f"/api/v2/dags/shipping/dagRuns/{run_id}/taskInstances/bad/logs/1")
        assert v2.status_code == 200, v2.text
        assert any("failing-marker-42" in event["event"] for event in v2.json()["content"])
    for text in (*uploaded.values(), deployment.dump_logs()):
        assert s3_store.secret_key not in text


@pytest.mark.parametrize("failure", ["bucket missing", "server down"])
def test_a_failed_upload_keeps_the_local_log_and_the_task_still_succeeds(
    deployment: Deployment, s3_store: S3Store, failure: str
) -> None:
    if failure == "server down":  # nothing listens on port 9 (discard) here: connections are refused
        s3_store = S3Store("http://127.0.0.1:9", s3_store.access_key, s3_store.secret_key)
    _remote_logging(deployment, s3_store, "no-such-bucket-for-logs")
    run_id = _run(deployment)
    with deployment.sessions() as session:
        ok = task_instances.get_task_instance(session=session, key=TaskInstanceKey("shipping", run_id, "ok"))
        assert ok.state == "success"
    local = _local(deployment, run_id, "ok")
    wait_for(lambda: "could not upload" in local.read_text(), timeout=30, what="the failed upload noted")
    text = local.read_text()
    assert "shipped-marker-42" in text and "local copy is kept" in text
    assert f"s3://no-such-bucket-for-logs/{_key(run_id, 'ok')}" in text
    wait_for(lambda: "could not upload the log" in deployment.dump_logs(), timeout=30,
               what="the failed upload in the service log")  # fmt: skip
    assert s3_store.secret_key not in deployment.dump_logs() and s3_store.secret_key not in text


def test_delete_local_logs_leaves_only_the_remote_copy(
    deployment: Deployment, s3_store: S3Store, bucket: str
) -> None:
    _remote_logging(deployment, s3_store, bucket, delete_local=True)
    run_id = _run(deployment)
    wait_for(
        lambda: not _local(deployment, run_id, "ok").exists(), timeout=30, what="the local log deleted"
    )
    remote = read_object(s3_store, bucket, _key(run_id, "ok"))
    assert remote is not None and "shipped-marker-42" in remote
    assert "shipped-marker-42" in deployment.tw("tasks", "logs", "shipping", "ok", run_id).stdout
