"""The process kubelet, seen through the official client: pods run as processes and report like real ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes.client import ApiException, CoreV1Api
from tests.integration.kubernetes.cluster_harness import container_state, pod_phase, python_pod
from tests.waiting import wait_for

from tradewind.testing.fake_cluster import FakeCluster
from tradewind.testing.fake_kubernetes import PodFault


def finished(api: CoreV1Api, name: str) -> str | None:
    phase = pod_phase(api, name)
    return phase if phase in ("Succeeded", "Failed") else None


def test_pod_runs_and_reports_phases_exit_code_and_logs(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", python_pod("ok", "print('hello from the pod')"))
    assert wait_for(lambda: finished(core_api, "ok"), what="pod ok to finish") == "Succeeded"
    terminated = container_state(core_api, "ok").terminated
    assert terminated.exit_code == 0 and terminated.reason == "Completed"
    assert terminated.started_at is not None and terminated.finished_at is not None
    assert core_api.read_namespaced_pod_log("ok", "default") == "hello from the pod\n"
    reasons = {e.reason for e in core_api.list_namespaced_event(
        "default", field_selector="involvedObject.name=ok").items}
    assert {"Scheduled", "Pulled", "Created", "Started"} <= reasons

    core_api.create_namespaced_pod("default", python_pod("bad", "import sys; sys.exit(3)"))
    assert wait_for(lambda: finished(core_api, "bad"), what="pod bad to finish") == "Failed"
    terminated = container_state(core_api, "bad").terminated
    assert terminated.exit_code == 3 and terminated.reason == "Error"


def test_env_comes_from_values_secrets_and_configmaps(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    fake_cluster.server.create_secret("default", "db", {"URL": "postgresql://secret", "TOKEN": "t0k"})
    fake_cluster.server.create_configmap("default", "cfg", {"MODE": "fast", "LEVEL": "3"})
    env = [
        {"name": "PLAIN", "value": "v-$(MODE)"},
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "URL"}}},
        {"name": "LVL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LEVEL"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    env_from = [{"secretRef": {"name": "db"}, "prefix": "S_"}, {"configMapRef": {"name": "cfg"}}]
    code = "import os; print(*(os.environ.get(k) for k in ['PLAIN','DB','LVL','POD','S_TOKEN','MODE']))"
    core_api.create_namespaced_pod("default", python_pod("envy", code, container={"env": env, "envFrom": env_from}))
    wait_for(lambda: finished(core_api, "envy"), what="pod envy to finish")
    assert core_api.read_namespaced_pod_log("envy", "default") == "v-fast postgresql://secret 3 envy t0k fast\n"


def test_missing_secret_is_create_container_config_error(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    env = [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "URL"}}}]
    core_api.create_namespaced_pod("default", python_pod("cfg", "print(1)", container={"env": env}))
    waiting = wait_for(lambda: getattr(container_state(core_api, "cfg"), "waiting", None) if
                       getattr(getattr(container_state(core_api, "cfg"), "waiting", None), "reason", "") ==
                       "CreateContainerConfigError" else None, what="CreateContainerConfigError")
    assert waiting.message == 'secret "absent" not found'
    fake_cluster.server.create_secret("default", "absent", {"URL": "late"})  # the kubelet retries
    assert wait_for(lambda: finished(core_api, "cfg"), what="pod cfg to run once its secret exists") == "Succeeded"


def test_logs_follow_while_running_and_tail(core_api: CoreV1Api) -> None:
    code = "import time\nfor i in range(3): print('line', i)\ntime.sleep(60)"
    core_api.create_namespaced_pod("default", python_pod("talker", code))
    wait_for(lambda: pod_phase(core_api, "talker") == "Running", what="talker to run")
    wait_for(lambda: "line 2" in core_api.read_namespaced_pod_log("talker", "default"), what="three lines")
    assert core_api.read_namespaced_pod_log("talker", "default", tail_lines=1) == "line 2\n"
    stamped = core_api.read_namespaced_pod_log("talker", "default", timestamps=True).splitlines()
    assert stamped[0].endswith("Z line 0") and stamped[0][:4].isdigit()
    stream = core_api.read_namespaced_pod_log("talker", "default", follow=True, _preload_content=False)
    first = next(stream.stream(64))
    assert first.startswith(b"line 0")
    stream.release_conn()


def test_follow_ends_when_the_container_exits(core_api: CoreV1Api) -> None:
    code = "import time\nprint('start', flush=True)\ntime.sleep(0.5)\nprint('end')"
    core_api.create_namespaced_pod("default", python_pod("brief", code))
    wait_for(lambda: pod_phase(core_api, "brief") in ("Running", "Succeeded"), what="brief to start")
    text = core_api.read_namespaced_pod_log("brief", "default", follow=True)
    assert text == "start\nend\n"


def test_log_of_a_pod_that_has_not_started_is_400(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", python_pod("pulling", "print(1)",
                                                         metadata={"annotations": {"fake.tradewind.io/fault": "image-pull"}}))
    wait_for(lambda: getattr(getattr(container_state(core_api, "pulling"), "waiting", None), "reason", None)
             == "ImagePullBackOff", what="ImagePullBackOff")
    with pytest.raises(ApiException) as info:
        core_api.read_namespaced_pod_log("pulling", "default")
    assert info.value.status == 400 and "waiting to start" in info.value.body


def test_delete_sends_sigterm_then_removes_the_pod(tmp_path: Path, core_api: CoreV1Api) -> None:
    marker = tmp_path / "got-sigterm"
    code = (f"import signal, sys, time\n"
            f"def bye(*a):\n    open({str(marker)!r}, 'w').write('TERM')\n    sys.exit(0)\n"
            f"signal.signal(signal.SIGTERM, bye)\nprint('ready', flush=True)\ntime.sleep(60)")
    core_api.create_namespaced_pod("default", python_pod("graceful", code))
    wait_for(lambda: "ready" in _log_or_empty(core_api, "graceful"), what="graceful to be ready")
    core_api.delete_namespaced_pod("graceful", "default", grace_period_seconds=10)
    wait_for(lambda: pod_phase(core_api, "graceful") is None, what="the pod object to go")
    assert marker.read_text() == "TERM"


def test_delete_kills_a_process_that_ignores_sigterm_after_the_grace_period(core_api: CoreV1Api) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('stubborn', flush=True)\n" \
           "time.sleep(60)"
    core_api.create_namespaced_pod("default", python_pod("stubborn", code))
    wait_for(lambda: "stubborn" in _log_or_empty(core_api, "stubborn"), what="stubborn to start")
    core_api.delete_namespaced_pod("stubborn", "default", grace_period_seconds=1)
    assert core_api.read_namespaced_pod("stubborn", "default").metadata.deletion_timestamp is not None
    wait_for(lambda: pod_phase(core_api, "stubborn") is None, timeout=10, what="SIGKILL after the grace period")


def _log_or_empty(api: CoreV1Api, name: str) -> str:
    try:
        return str(api.read_namespaced_pod_log(name, "default"))
    except ApiException:
        return ""


def test_fault_image_pull(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    fake_cluster.faults.fault_next_pods(PodFault.IMAGE_PULL, label_selector="app=puller")
    core_api.create_namespaced_pod("default", python_pod("puller", "print(1)", metadata={"labels": {"app": "puller"}}))
    wait_for(lambda: getattr(getattr(container_state(core_api, "puller"), "waiting", None), "reason", None)
             == "ImagePullBackOff", what="ImagePullBackOff")
    assert pod_phase(core_api, "puller") == "Pending"
    events = core_api.list_namespaced_event("default", field_selector="involvedObject.name=puller,reason=Failed")
    assert "Failed to pull image" in events.items[0].message


def test_fault_oom_killed(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", python_pod("hog", "import time; time.sleep(60)"))
    wait_for(lambda: pod_phase(core_api, "hog") == "Running", what="hog to run")
    fake_cluster.server.fault_pod("default", "hog", PodFault.OOM_KILLED)
    assert wait_for(lambda: finished(core_api, "hog"), what="hog to be killed") == "Failed"
    terminated = container_state(core_api, "hog").terminated
    assert (terminated.reason, terminated.exit_code) == ("OOMKilled", 137)


def test_fault_unschedulable(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", python_pod("big", "print(1)", metadata={
        "annotations": {"fake.tradewind.io/fault": "unschedulable"}}))

    def scheduled_condition() -> object:
        conditions = core_api.read_namespaced_pod("big", "default").status.conditions or []
        return next((c for c in conditions if c.type == "PodScheduled" and c.status == "False"), None)

    condition = wait_for(scheduled_condition, what="PodScheduled=False")
    assert condition.reason == "Unschedulable" and "0/1 nodes are available" in condition.message
    assert core_api.read_namespaced_pod("big", "default").spec.node_name is None


def test_node_selector_that_matches_no_node_is_unschedulable(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", python_pod("picky", "print(1)", nodeSelector={"gpu": "a100"}))
    events = wait_for(lambda: core_api.list_namespaced_event(
        "default", field_selector="involvedObject.name=picky,reason=FailedScheduling").items, what="FailedScheduling")
    assert "didn't match Pod's node affinity/selector" in events[0].message


def test_fault_evicted(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", python_pod("evictee", "import time; time.sleep(60)"))
    wait_for(lambda: pod_phase(core_api, "evictee") == "Running", what="evictee to run")
    fake_cluster.server.fault_pod("default", "evictee", PodFault.EVICTED)
    assert wait_for(lambda: finished(core_api, "evictee"), what="eviction") == "Failed"
    pod = core_api.read_namespaced_pod("evictee", "default")
    assert pod.status.reason == "Evicted" and "low on resource" in pod.status.message


def test_claims_mount_local_folders(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "hello.txt").write_text("from the host")
    with FakeCluster(tmp_path / "cluster", claim_dirs={"dags-claim": dags}) as cluster:
        from kubernetes import config

        api = CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig_path)))
        pod = python_pod("reader", f"print(open({str(dags / 'hello.txt')!r}).read())", container={
            "volumeMounts": [{"name": "dags", "mountPath": str(dags)}], "workingDir": str(dags)})
        pod["spec"]["volumes"] = [{"name": "dags", "persistentVolumeClaim": {"claimName": "dags-claim"}}]
        api.create_namespaced_pod("default", pod)
        wait_for(lambda: finished(api, "reader"), what="reader")
        assert api.read_namespaced_pod_log("reader", "default") == "from the host\n"

        wrong = python_pod("elsewhere", "print(1)", container={
            "volumeMounts": [{"name": "dags", "mountPath": "/opt/somewhere/else"}]})
        wrong["spec"]["volumes"] = [{"name": "dags", "persistentVolumeClaim": {"claimName": "dags-claim"}}]
        api.create_namespaced_pod("default", wrong)
        events = wait_for(lambda: api.list_namespaced_event(
            "default", field_selector="involvedObject.name=elsewhere,reason=FailedMount").items, what="FailedMount")
        assert "must be the local directory" in events[0].message
