"""Worker pods with no shared volume at all: the task's output and the runner's lines reach `kubectl logs` while
the try runs, and the try's log (CLI and REST API) after its pod is gone; a try whose pod cannot start is
launched again under new pod names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.kubernetes.deployment import KubernetesDeployment, free_port
from tests.waiting import wait_for

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path
from tradewind.store import task_instances
from tradewind.testing.fake_kubernetes.faults import PodFault

ADMIN = ("admin", "admin-pass-1")
DAG = """
    import time
    from datetime import datetime
    from pathlib import Path
    from tradewind import DAG, BashOperator, task

    GO = Path(__file__).parent / "go.flag"

    with DAG("chatty", schedule=None, start_date=datetime(2026, 1, 1)):
        BashOperator(task_id="say", bash_command="echo bash says $((40 + 2)); echo bash warns >&2")
        BashOperator(task_id="flaky", bash_command="echo flaky ran at last")

        @task
        def hold():
            print("hold is waiting for the go flag", flush=True)
            deadline = time.monotonic() + 120
            while not GO.exists():  # the test creates it once it has seen the line above in the pod's log
                if time.monotonic() > deadline:
                    raise RuntimeError("no go flag")
                time.sleep(0.05)
            print("hold got the go flag")

        hold()
"""


class NoSharedVolumeDeployment(KubernetesDeployment):
    """Pods mount nothing: the DAG folder stands for DAGs baked into the image, and the runner writes the try's
    log onto the container's own disk (a folder the scheduler never reads), as in a cluster without a logs
    claim."""

    def __init__(self, home: Path, db_url: str) -> None:
        super().__init__(home, db_url)
        self.pod_disk = home / "pod-local-disk"
        del self.env["TRADEWIND__KUBERNETES__DAGS_VOLUME_CLAIM"]
        del self.env["TRADEWIND__KUBERNETES__LOGS_VOLUME_CLAIM"]
        self.env["TRADEWIND__KUBERNETES__LOGS_MOUNT_PATH"] = str(self.pod_disk / "logs")
        # Short relaunch delays so that two failed launches cost a second or two, not 15 s.
        self.env["TRADEWIND__KUBERNETES__POD_RELAUNCH_DELAY"] = "0.3"


@pytest.fixture
def no_volume(tw_home: Path, db_url: str) -> Iterator[NoSharedVolumeDeployment]:
    deployment = NoSharedVolumeDeployment(tw_home, db_url)
    try:
        yield deployment
    finally:
        deployment.stop_all()


def _running_pods(dep: KubernetesDeployment, task_id: str) -> list[Any]:
    pods: list[Any] = dep.core.list_namespaced_pod("default", label_selector=f"task_id={task_id}").items
    return [p for p in pods if p.status.phase == "Running"]


def _pod_log(dep: KubernetesDeployment, task_id: str) -> str:
    running = _running_pods(dep, task_id)
    if not running:
        return ""
    return str(dep.core.read_namespaced_pod_log(running[0].metadata.name, "default", container="base"))


def _start_webserver(dep: KubernetesDeployment) -> str:
    dep.tw("users", "create", "--username", ADMIN[0], "--role", "admin", "--password", ADMIN[1])
    port = free_port()
    dep.start("webserver", "--port", str(port), log_name="webserver")
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            # A route loaded after /health (the webserver answers /health while it loads the rest).
            return httpx.get(base + "/api/v2/monitor/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what="the webserver to answer", details=dep.dump_logs)
    return base


def _api_log(base: str, run_id: str, task_id: str, try_number: int = 1) -> str:
    response = httpx.get(f"{base}/api/v1/dags/chatty/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                         params={"full_content": "true"}, headers={"accept": "text/plain"}, auth=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


#: The metadata database plays no part in where logs go: SQLite only, to keep the suite's time.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_task_output_survives_pods_without_any_shared_volume(no_volume: NoSharedVolumeDeployment) -> None:
    dep = no_volume
    dep.write_dag("chatty", DAG)
    dep.parse()
    base = _start_webserver(dep)
    # The first two pods of `flaky` cannot pull their image: it is launched a third time, under a new name.
    dep.cluster.faults.fault_next_pods(PodFault.IMAGE_PULL, label_selector="task_id=flaky", count=2)
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "chatty").stdout.strip()

    # While `hold` runs, its pod's log (what `kubectl logs` reads) already shows the task's and runner's lines.
    wait_for(lambda: "hold is waiting for the go flag" in _pod_log(dep, "hold"), timeout=90,
               what="hold's output in its running pod's log", details=dep.dump_logs)
    live = _pod_log(dep, "hold")
    assert "INFO tradewind.task - Running" in live
    (pod,) = _running_pods(dep, "hold")
    assert not pod.spec.volumes, "the worker pod mounts nothing"
    hold_key = TaskInstanceKey("chatty", run_id, "hold")
    scheduler_side = dep.home / "logs" / log_relative_path(hold_key, 1)
    assert not scheduler_side.exists() or "hold is waiting" not in scheduler_side.read_text()
    (dep.dags / "go.flag").touch()

    assert dep.wait_run("chatty", run_id, timeout=120) == "success", dep.dump_logs()
    wait_for(lambda: not dep.core.list_namespaced_pod("default", label_selector="tradewind-worker=true").items,
               timeout=60, what="every worker pod to be deleted", details=dep.dump_logs)

    # After the pods are gone: the CLI and the REST API show the task's output and the runner's own lines,
    # each once, one timestamp per line.
    cli = dep.tw("tasks", "logs", "chatty", "say", run_id).stdout
    api = _api_log(base, run_id, "say")
    for text in (cli, api):
        assert text.count("bash says 42") == 1 and text.count("bash warns") == 1, text
        assert "INFO tradewind.task - Running" in text and "Marking task as SUCCESS" in text, text
        assert "[kubernetes] --- output of pod default/chatty-say-" in text and "the pod succeeded" in text
        body = [line for line in text.splitlines() if line and not line.startswith("***")]
        assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) ", line) for line in body), text
    assert "hold got the go flag" in dep.tw("tasks", "logs", "chatty", "hold", run_id).stdout
    # The runner's own copy stayed on the pod's disk, where nobody outside the pod can read it.
    assert "bash says 42" in (dep.pod_disk / "logs" / log_relative_path(TaskInstanceKey("chatty", run_id, "say"), 1)
                              ).read_text()

    # `flaky`: two pods that never started, then a third, each under its own name, all in try 1's log.
    flaky = _api_log(base, run_id, "flaky")
    names = re.findall(r"--- output of pod default/(chatty-flaky-[a-z0-9]+)", flaky)
    assert len(names) == 3 and len(set(names)) == 3, flaky
    assert flaky.count("no output: the container never started") == 2, flaky
    assert flaky.index("no output: the container never started") < flaky.index("flaky ran at last")
    with dep.sessions() as session:
        ti = task_instances.get_task_instance(session=session, key=TaskInstanceKey("chatty", run_id, "flaky"))
    assert ti.try_number == 1, "launching a pod again uses no retry"
