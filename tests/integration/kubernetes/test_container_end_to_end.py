"""The image, the chart and the Kubernetes executor together: the scheduler runs DAGs whose tries run as
podman containers of the project's image on the fake cluster's container kubelet, from the worker pod
template `helm template` renders (user 50000, read-only root filesystem, the DAG and log claims, the
config ConfigMap mounted as tradewind.toml, a memory limit).

One deployment for the module (one scheduler, replaced by the last test): a success, a retry, an
OOMKilled failure with its reason, output read after the pods are gone, a pod deleted mid-task, and a
scheduler SIGKILLed and replaced that adopts the running pods.
"""

from __future__ import annotations

import signal
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config
from kubernetes.client import CoreV1Api
from tests.container_image import ContainerImage
from tests.integration.kubernetes.deployment import free_port
from tests.integration.scheduler.conftest import Deployment
from tests.required_tools import missing_tool
from tests.waiting import wait_for

from tradewind.core.clock import utcnow
from tradewind.deploy.tools import find_tool
from tradewind.sdk.errors import NotFoundError
from tradewind.store import jobs, task_instances
from tradewind.testing.container_kubelet import ContainerEngine
from tradewind.testing.fake_cluster import FakeCluster

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "tradewind"
VALUES = CHART / "ci" / "kubernetes-persistent-values.yaml"
RELEASE, NAMESPACE = "tw", "data"
WORKER = "tradewind-worker=true"

DAGS = {
    "proof": """
        from datetime import datetime, timedelta
        from tradewind import DAG, BashOperator, task

        with DAG("proof", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(task_id="hello", bash_command='echo "hello from uid $(id -u) gid $(id -g)"; '
                         'touch /opt/tradewind/x 2>/dev/null || echo "root filesystem read-only"')

            @task(retries=1, retry_delay=timedelta(seconds=0))
            def flaky(ti=None):
                if ti.try_number == 1:
                    raise RuntimeError("first try fails on purpose")
                print("flaky succeeded on try", ti.try_number)

            @task(executor_config={"pod_override": {"spec": {"containers": [
                {"name": "base", "resources": {"limits": {"memory": "200Mi"}}}]}}})
            def greedy():
                hoard = bytearray(600 * 1024 * 1024)
                hoard[::4096] = b"x" * len(hoard[::4096])

            flaky()
            greedy()
    """,
    "sleepy": """
        from datetime import datetime
        from tradewind import DAG, BashOperator

        with DAG("sleepy", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(task_id="long", bash_command="echo started; sleep 120")
    """,
    "adopted": """
        from datetime import datetime
        from tradewind import DAG, BashOperator

        with DAG("adopted", schedule=None, start_date=datetime(2026, 1, 1)):
            for i in range(2):
                BashOperator(task_id=f"t{i}", bash_command=f"sleep 12; echo t{i} finished")
    """,
}


def render_chart(image: ContainerImage) -> list[dict[str, Any]]:
    try:
        helm = find_tool("helm")
    except NotFoundError as exc:
        missing_tool(f"helm is not installed: {exc}")
    repository, _, tag = image.tag.rpartition(":")
    command = [str(helm), "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--values", str(VALUES),
               "--set", f"image.repository={repository}", "--set", f"image.tag={tag}"]  # fmt: skip
    rendered = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def named(manifests: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
    (found,) = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"].endswith(suffix)]
    return found


def _setting(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class ContainerDeployment(Deployment):
    """The scheduler here, its worker pods in containers: the chart's worker pod template and the chart's
    [kubernetes] settings, with the DAG and log folders of this home as the chart's two claims."""

    def __init__(self, home: Path, db_url: str, image: ContainerImage) -> None:
        (home / "dags").mkdir(parents=True)
        (home / "logs").mkdir()
        super().__init__(home, db_url)
        self.logs = home / "logs"
        manifests = render_chart(image)
        toml = named(manifests, "ConfigMap", "-config")
        kubernetes = tomllib.loads(toml["data"]["tradewind.toml"])["kubernetes"]
        self.cluster = FakeCluster(
            home / "cluster", namespaces=("default", NAMESPACE),
            claim_dirs={kubernetes["dags_volume_claim"]: self.dags, kubernetes["logs_volume_claim"]: self.logs},
            containers=ContainerEngine(list(image.run)),
        ).start()  # fmt: skip
        port = free_port()
        for manifest in manifests:
            meta = {"name": manifest["metadata"]["name"], "namespace": NAMESPACE}
            if manifest["kind"] == "ServiceAccount":
                self.cluster.server.store.create("serviceaccounts", NAMESPACE, {"metadata": meta})
            elif manifest["kind"] == "ConfigMap":
                data = dict(manifest["data"])
                if meta["name"] == kubernetes["env_from_configmap"]:
                    # The one thing this cluster does differently: the execution API is the scheduler's
                    # own, on the host network the containers share, not the webserver's Service.
                    data["TRADEWIND__EXECUTION_API__URL"] = f"http://127.0.0.1:{port}/execution"
                self.cluster.server.create_configmap(NAMESPACE, meta["name"], data)
        template = home / "pod_template.yaml"
        template.write_text(named(manifests, "ConfigMap", "-pod-template")["data"]["pod_template.yaml"])
        self.env.update({
            "TRADEWIND__CORE__EXECUTOR": "kubernetes",
            "TRADEWIND__CORE__PARALLELISM": "6",
            "TRADEWIND__KUBERNETES__CONFIG_FILE": str(self.cluster.kubeconfig_path),
            "TRADEWIND__KUBERNETES__CONTEXT": self.cluster.context,
            "TRADEWIND__KUBERNETES__POD_TEMPLATE_FILE": str(template),
            "TRADEWIND__EXECUTION_API__SERVE_PORT": str(port),
            # A killed scheduler is dead to the next one after 3 heartbeats, not the default 30 s.
            "TRADEWIND__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "3",
            **{f"TRADEWIND__KUBERNETES__{key.upper()}": _setting(value) for key, value in kubernetes.items()
               if key not in ("in_cluster", "pod_template_file")},
        })  # fmt: skip
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.core = CoreV1Api(config.new_client_from_config(config_file=str(self.cluster.kubeconfig_path)))
        for name, source in DAGS.items():
            self.write_dag(name, source)
        self.parse()

    def task(self, dag_id: str, run_id: str, task_id: str) -> Any:
        with self.sessions() as session:
            tis, _count = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=run_id)
        return next(ti for ti in tis if ti.task_id == task_id)

    def worker_pods(self, selector: str) -> list[Any]:
        return list(self.core.list_namespaced_pod(NAMESPACE, label_selector=f"{WORKER},{selector}").items)

    def stop_all(self) -> None:
        try:
            super().stop_all()
        finally:
            self.core.api_client.close()
            self.cluster.stop()


@pytest.fixture(scope="module")
def dep(
    tradewind_image: ContainerImage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ContainerDeployment]:
    home = tmp_path_factory.mktemp("container_e2e")
    deployment = ContainerDeployment(home, f"sqlite:///{home / 'tradewind.db'}", tradewind_image)
    deployment.scheduler = deployment.start_scheduler()
    try:
        yield deployment
    finally:
        deployment.stop_all()


def trigger(dep: ContainerDeployment, dag_id: str) -> str:
    return str(dep.tw("dags", "trigger", dag_id).stdout.strip())


def test_tries_run_in_containers_of_the_image(dep: ContainerDeployment) -> None:
    run_id = trigger(dep, "proof")
    assert dep.wait_run("proof", run_id, timeout=300) == "failed", dep.dump_logs()
    wait_for(lambda: not dep.worker_pods("dag_id=proof,tradewind-kept!=true"), timeout=60,
             what="the finished pods to be deleted", details=dep.dump_logs)  # fmt: skip

    hello = dep.task("proof", run_id, "hello")
    assert hello.state == "success"
    # Read after the pods are gone, the way a user does.
    output = dep.tw("tasks", "logs", "proof", "hello", run_id).stdout
    assert "hello from uid 50000 gid 0" in output
    assert "root filesystem read-only" in output

    flaky = dep.task("proof", run_id, "flaky")
    assert (flaky.state, flaky.try_number) == ("success", 2)
    assert (
        "first try fails on purpose"
        in dep.tw("tasks", "logs", "proof", "flaky", run_id, "--try-number", "1").stdout
    )
    assert "flaky succeeded on try 2" in dep.tw("tasks", "logs", "proof", "flaky", run_id).stdout

    greedy = dep.task("proof", run_id, "greedy")
    assert greedy.state == "failed"
    assert greedy.state_reason == "OOMKilled (exit code 137)", greedy.state_reason
    (kept,) = dep.worker_pods("dag_id=proof,task_id=greedy")  # a failed pod is kept, labelled
    assert kept.metadata.labels["tradewind-kept"] == "true"
    assert kept.spec.security_context.run_as_user == 50000
    assert kept.status.container_statuses[0].state.terminated.reason == "OOMKilled"


def test_a_pod_deleted_mid_task_ends_its_try_with_the_reason(dep: ContainerDeployment) -> None:
    run_id = trigger(dep, "sleepy")
    wait_for(lambda: dep.task("sleepy", run_id, "long").state == "running", timeout=120,
             what="the task to run", details=dep.dump_logs)  # fmt: skip
    (pod,) = dep.worker_pods("dag_id=sleepy")
    name = pod.metadata.name
    wait_for(lambda: "started" in dep.core.read_namespaced_pod_log(name, NAMESPACE), timeout=60,
             what="the task's first line in the pod's log")  # fmt: skip
    dep.core.delete_namespaced_pod(name, NAMESPACE)
    assert dep.wait_run("sleepy", run_id, timeout=120) == "failed", dep.dump_logs()
    long = dep.task("sleepy", run_id, "long")
    assert long.state == "failed"
    # The runner is the container's PID 1 (the pod's command replaces the image's entrypoint and tini): the
    # kubelet's SIGTERM reaches it, and it ends the try itself, well within the grace period.
    assert long.state_reason == "terminated by SIGTERM", long.state_reason
    # The try reported its own end; the executor archives the pod's output and events once it sees the pod
    # gone, which may be a moment after the run ended.
    wait_for(lambda: "Killing: Stopping container base" in dep.tw("tasks", "logs", "sleepy", "long", run_id).stdout,
             timeout=60, what="the pod's events archived with its output", details=dep.dump_logs)  # fmt: skip
    assert "received SIGTERM" in dep.tw("tasks", "logs", "sleepy", "long", run_id).stdout


def test_a_killed_scheduler_is_replaced_and_adopts_the_running_pods(dep: ContainerDeployment) -> None:
    run_id = trigger(dep, "adopted")

    def both_running() -> bool:
        return all(dep.task("adopted", run_id, f"t{i}").state == "running" for i in range(2))

    wait_for(both_running, timeout=120, what="both tasks to run in pods", details=dep.dump_logs)
    assert dep.scheduler is not None
    dep.scheduler.send_signal(signal.SIGKILL)
    dep.scheduler.wait(timeout=10)

    def dead_for() -> float:
        with dep.sessions() as session:
            latest = jobs.latest_heartbeat(session=session, job_type="scheduler")
        return (utcnow() - latest).total_seconds() if latest is not None else 0.0

    wait_for(lambda: dead_for() > 3.5, timeout=30, what="the killed scheduler to look dead")
    dep.scheduler = dep.start_scheduler()
    assert dep.wait_run("adopted", run_id, timeout=120) == "success", dep.dump_logs()
    for i in range(2):
        ti = dep.task("adopted", run_id, f"t{i}")
        assert (ti.state, ti.try_number) == ("success", 1), "adopted, not run again"
        assert f"t{i} finished" in dep.tw("tasks", "logs", "adopted", f"t{i}", run_id).stdout
