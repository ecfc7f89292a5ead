"""Worker pod building: template, settings, workload and pod_override, as table tests."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.config.settings import KubernetesSettings
from tradewind.core.workload import ExecuteTask
from tradewind.executors.kubernetes.pod_spec import WorkerPodConfig, build_worker_pod, merge, namespace_for
from tradewind.executors.kubernetes.pod_template import default_template
from tradewind.sdk.errors import ConfigError

WORKLOAD = ExecuteTask(dag_id="etl", task_id="load", run_id="manual__2024-01-01T00:00:00+00:00", try_number=2,
                       dag_rel_path="team/etl.py")
CONFIG = WorkerPodConfig(image="repo/tradewind:1.0", image_pull_policy="IfNotPresent")


def build(workload: ExecuteTask = WORKLOAD, config: WorkerPodConfig = CONFIG,
          template: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return build_worker_pod(workload, config, template=template or default_template(), owner="7", **kwargs)


def base(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "base")


def with_override(override: dict[str, Any]) -> ExecuteTask:
    return WORKLOAD.model_copy(update={"executor_config": {"pod_override": override}})


def test_defaults() -> None:
    pod = build()
    container = base(pod)
    assert container["command"] == ["tradewind", "tasks", "run", "etl", "load", "manual__2024-01-01T00:00:00+00:00",
                                    "--try-number", "2", "--subdir", "team/etl.py"]
    assert container["args"] == []
    assert (container["image"], container["imagePullPolicy"]) == ("repo/tradewind:1.0", "IfNotPresent")
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["namespace"] == "default"
    assert {e["name"] for e in container["env"]} >= {"TRADEWIND__CORE__DAGS_FOLDER",
                                                     "TRADEWIND__LOGGING__BASE_LOG_FOLDER"}
    # The runner echoes the try's log lines to the container log: `kubectl logs` and the archive see them.
    assert {"name": "TRADEWIND__LOGGING__TASK_OUTPUT_TO_STDOUT", "value": "true"} in container["env"]
    assert "volumes" not in pod["spec"] and "envFrom" not in container


@pytest.mark.parametrize(
    ("config", "check"),
    [
        (WorkerPodConfig(image="i", env_from_secret="tw-secrets", env_from_configmap="tw-config"),
         lambda p: base(p)["envFrom"] == [{"secretRef": {"name": "tw-secrets"}},
                                          {"configMapRef": {"name": "tw-config"}}]),
        (WorkerPodConfig(image="i", service_account_name="worker"),
         lambda p: p["spec"]["serviceAccountName"] == "worker"),
        (WorkerPodConfig(image="i", namespace="jobs"), lambda p: p["metadata"]["namespace"] == "jobs"),
        (WorkerPodConfig(image="i", dags_volume_claim="dags-pvc", logs_volume_claim="logs-pvc",
                         dags_mount_path="/d", logs_mount_path="/l"),
         lambda p: p["spec"]["volumes"] == [
             {"name": "tradewind-dags", "persistentVolumeClaim": {"claimName": "dags-pvc", "readOnly": True}},
             {"name": "tradewind-logs", "persistentVolumeClaim": {"claimName": "logs-pvc", "readOnly": False}}]
         and base(p)["volumeMounts"] == [{"name": "tradewind-dags", "mountPath": "/d", "readOnly": True},
                                         {"name": "tradewind-logs", "mountPath": "/l", "readOnly": False}]
         and {"name": "TRADEWIND__CORE__DAGS_FOLDER", "value": "/d"} in base(p)["env"]),
        (WorkerPodConfig(image="i", resources={"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}),
         lambda p: base(p)["resources"] == {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}),
        (WorkerPodConfig(image="i", node_selector={"pool": "batch"},
                         tolerations=[{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
                         affinity={"nodeAffinity": {"x": 1}}),
         lambda p: p["spec"]["nodeSelector"] == {"pool": "batch"} and len(p["spec"]["tolerations"]) == 1
         and p["spec"]["affinity"] == {"nodeAffinity": {"x": 1}}),
        (WorkerPodConfig(image="i", labels={"team": "data"}, annotations={"owner": "me"}),
         lambda p: p["metadata"]["labels"]["team"] == "data" and p["metadata"]["annotations"]["owner"] == "me"),
        (WorkerPodConfig(image="i", executable="/usr/local/bin/tradewind"),
         lambda p: base(p)["command"][0] == "/usr/local/bin/tradewind"),
    ],
    ids=["env-from", "service-account", "namespace", "volumes", "resources", "scheduling", "metadata", "executable"],
)
def test_settings(config: WorkerPodConfig, check: Any) -> None:
    assert check(build(config=config))


TEMPLATE = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"labels": {"from": "template"}, "annotations": {"t": "1"}},
    "spec": {
        "securityContext": {"runAsUser": 1000},
        "containers": [
            {"name": "base", "image": "template/image:1", "args": ["ignored"],
             "env": [{"name": "FROM_TEMPLATE", "value": "1"}, {"name": "TRADEWIND__CORE__DAGS_FOLDER", "value": "x"}],
             "resources": {"limits": {"cpu": "1"}}},
            {"name": "sidecar", "image": "proxy:2"},
        ],
        "tolerations": [{"key": "a", "operator": "Exists"}],
    },
}


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ({}, lambda p: p["spec"]["securityContext"] == {"runAsUser": 1000}
         and [c["name"] for c in p["spec"]["containers"]] == ["base", "sidecar"]),
        ({}, lambda p: base(p)["image"] == "repo/tradewind:1.0"),  # settings over the template
        ({}, lambda p: {"name": "FROM_TEMPLATE", "value": "1"} in base(p)["env"]
         and {"name": "TRADEWIND__CORE__DAGS_FOLDER", "value": "/opt/tradewind/dags"} in base(p)["env"]),
        ({}, lambda p: p["metadata"]["labels"]["from"] == "template" and p["metadata"]["annotations"]["t"] == "1"),
        ({"spec": {"containers": [{"name": "base", "image": "special:2"}]}},
         lambda p: base(p)["image"] == "special:2"),  # scalars replaced
        ({"spec": {"containers": [{"name": "base", "env": [{"name": "EXTRA", "value": "e"}]}]}},
         lambda p: [e["name"] for e in base(p)["env"]][-1] == "EXTRA" and len(base(p)["env"]) == 6),  # extended
        ({"spec": {"containers": [{"name": "base", "resources": {"requests": {"memory": "2Gi"}}}]}},
         lambda p: base(p)["resources"] == {"limits": {"cpu": "1"}, "requests": {"memory": "2Gi"}}),
        ({"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}},
         lambda p: [t["key"] for t in p["spec"]["tolerations"]] == ["a", "b"]),  # lists extended
        ({"spec": {"containers": [{"name": "base", "command": ["python", "-c", "pass"]}]}},
         lambda p: base(p)["command"] == ["python", "-c", "pass"]),  # a list of strings is one value
        ({"spec": {"containers": [{"name": "extra", "image": "e:1"}]}},
         lambda p: [c["name"] for c in p["spec"]["containers"]] == ["base", "sidecar", "extra"]),
        ({"metadata": {"labels": {"tradewind-worker": "false", "team": "x"}, "name": "mine"}},
         lambda p: p["metadata"]["labels"]["tradewind-worker"] == "true" and p["metadata"]["labels"]["team"] == "x"
         and p["metadata"]["name"] != "mine"),  # identity cannot be overridden
        ({"metadata": {"namespace": "other"}}, lambda p: p["metadata"]["namespace"] == "other"),
    ],
)
def test_template_and_override(override: dict[str, Any], check: Any) -> None:
    assert check(build(with_override(override), template=TEMPLATE))


def test_identity_labels_and_annotations() -> None:
    pod = build(WORKLOAD.model_copy(update={"map_index": 4}))
    labels, notes = pod["metadata"]["labels"], pod["metadata"]["annotations"]
    assert labels["tradewind-worker"] == "true" and labels["scheduler_job_id"] == "7"
    assert (labels["dag_id"], labels["task_id"], labels["try_number"], labels["map_index"]) == ("etl", "load", "2", "4")
    assert labels["run_id"] != WORKLOAD.run_id and len(labels["run_id"]) <= 63
    assert notes["tradewind.io/run-id"] == WORKLOAD.run_id and notes["tradewind.io/map-index"] == "4"
    assert "map_index" not in build()["metadata"]["labels"]  # "-1" is not a valid label value


def test_names_differ_per_try_and_launch_and_are_stable() -> None:
    names = {build()["metadata"]["name"], build(launch=2)["metadata"]["name"],
             build(WORKLOAD.model_copy(update={"try_number": 3}))["metadata"]["name"]}
    assert len(names) == 3
    assert build()["metadata"]["name"] == build()["metadata"]["name"]


def test_no_image_anywhere_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no image"):
        build(config=WorkerPodConfig(image=None))


@pytest.mark.parametrize("override", [["not", "a", "mapping"], "text"])
def test_bad_pod_override_is_a_config_error(override: Any) -> None:
    with pytest.raises(ConfigError, match="pod_override"):
        build(with_override(override))  # type: ignore[arg-type]


def test_namespace_for_follows_the_override() -> None:
    assert namespace_for(with_override({"metadata": {"namespace": "x"}}), CONFIG) == "x"
    assert namespace_for(WORKLOAD, CONFIG) == "default"


def test_config_from_settings() -> None:
    settings = KubernetesSettings(namespace="jobs", image="img:2", service_account_name="sa",
                                  env_from_secret="s", dags_volume_claim="d")
    config = WorkerPodConfig.from_settings(settings)
    assert (config.namespace, config.image, config.service_account_name, config.env_from_secret,
            config.dags_volume_claim) == ("jobs", "img:2", "sa", "s", "d")


def test_merge_does_not_touch_its_inputs() -> None:
    a = {"x": [{"name": "n", "v": 1}]}
    b = {"x": [{"name": "n", "v": 2}]}
    assert merge(a, b) == {"x": [{"name": "n", "v": 2}]}
    assert a == {"x": [{"name": "n", "v": 1}]}
