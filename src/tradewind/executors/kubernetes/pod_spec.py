"""Build a worker pod (a plain Kubernetes JSON dict) from the template, the settings, the workload and its
``pod_override``. Pure: no API calls, no clock, no randomness.

Precedence, lowest first: the pod template file; the ``kubernetes`` settings (image, pull policy, service
account, env from a Secret and a ConfigMap, volumes for the DAG and log folders, resources, scheduling,
labels, annotations); what the workload needs (command, identity labels, ``TRADEWIND__...`` env); and the
task's ``executor_config={"pod_override": {...}}``. Merging extends lists (items with the same ``name``
or mount path are merged), replaces scalars and lists of strings (command, args), and merges mappings.
The identity labels, annotations and the pod name are applied last: an override cannot break adoption.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tradewind.config.settings import KubernetesSettings, LoggingSettings
from tradewind.config.task_settings import EXECUTION_API_URL_ENV
from tradewind.core.workload import TASK_TOKEN_ENV, ExecuteTask
from tradewind.executors.kubernetes.pod_identity import (
    TOKEN_SECRET_KEY,
    pod_name,
    token_secret_name,
    worker_annotations,
    worker_labels,
)
from tradewind.executors.kubernetes.pod_template import BASE_CONTAINER, check_pod_template
from tradewind.sdk.errors import ConfigError

Obj = dict[str, Any]
DAGS_VOLUME = "tradewind-dags"
LOGS_VOLUME = "tradewind-logs"
#: The key that identifies list items to merge (default ``name``); items without it are appended.
_ITEM_KEYS = {"volumeMounts": "mountPath", "volumeDevices": "devicePath", "hostAliases": "ip"}


@dataclass(frozen=True)
class WorkerPodConfig:
    """The settings that shape every worker pod."""

    namespace: str = "default"
    image: str | None = None
    image_pull_policy: str | None = None
    service_account_name: str | None = None
    env_from_secret: str | None = None
    env_from_configmap: str | None = None
    dags_volume_claim: str | None = None
    logs_volume_claim: str | None = None
    dags_mount_path: str = "/opt/tradewind/dags"
    logs_mount_path: str = "/opt/tradewind/logs"
    resources: Obj = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[Obj] = field(default_factory=list)
    affinity: Obj = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    executable: str = "tradewind"
    #: Environment that turns remote logging on in the pod (``remote_logging_env``); the connection itself is
    #: looked up by the runner through the execution API, so no credentials are here.
    remote_logging: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, k8s: KubernetesSettings) -> WorkerPodConfig:
        # Keys the settings may not have yet are read with getattr, so older settings keep working.
        return cls(
            namespace=k8s.namespace,
            image=k8s.image,
            image_pull_policy=k8s.image_pull_policy,
            service_account_name=k8s.service_account_name,
            env_from_secret=k8s.env_from_secret,
            env_from_configmap=k8s.env_from_configmap,
            dags_volume_claim=k8s.dags_volume_claim,
            logs_volume_claim=k8s.logs_volume_claim,
            dags_mount_path=k8s.dags_mount_path,
            logs_mount_path=k8s.logs_mount_path,
            resources=dict(getattr(k8s, "worker_resources", None) or {}),
            node_selector=dict(getattr(k8s, "node_selector", None) or {}),
            tolerations=list(getattr(k8s, "tolerations", None) or []),
            affinity=dict(getattr(k8s, "affinity", None) or {}),
            labels=dict(getattr(k8s, "worker_labels", None) or {}),
            annotations=dict(getattr(k8s, "worker_annotations", None) or {}),
            executable=str(getattr(k8s, "worker_executable", None) or "tradewind"),
        )


def remote_logging_env(logging: LoggingSettings) -> dict[str, str]:
    """The ``[logging]`` remote-storage settings a worker pod's runner needs to upload its try's log."""
    if not logging.remote_base_log_folder.strip():
        return {}
    return {
        "TRADEWIND__LOGGING__REMOTE_BASE_LOG_FOLDER": logging.remote_base_log_folder,
        "TRADEWIND__LOGGING__REMOTE_LOG_CONN_ID": logging.remote_log_conn_id,
        "TRADEWIND__LOGGING__DELETE_LOCAL_LOGS": "true" if logging.delete_local_logs else "false",
    }


# -- merging ----------------------------------------------------------------------------------------
def _item_key(item: Any, key_field: str) -> Any:
    return item.get(key_field) if isinstance(item, dict) else None


def merge(base: Any, override: Any, field_name: str = "") -> Any:
    """Override on top of base: mappings merged, lists extended (keyed items merged), scalars replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = copy.deepcopy(base)
        for key, value in override.items():
            result[key] = merge(result[key], value, key) if key in result else copy.deepcopy(value)
        return result
    if isinstance(base, list) and isinstance(override, list):
        if not all(isinstance(v, dict) for v in base + override):
            return copy.deepcopy(override)  # command, args, finalizers: a list of strings is one value
        key_field = _ITEM_KEYS.get(field_name, "name")
        merged: list[Any] = copy.deepcopy(base)
        for item in override:
            key = _item_key(item, key_field)
            index = next((i for i, old in enumerate(merged) if key is not None and _item_key(old, key_field) == key),
                         None)
            if index is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[index] = merge(merged[index], item, field_name)
        return merged
    return copy.deepcopy(override)


def base_container(pod: Obj) -> Obj:
    for container in pod["spec"]["containers"]:
        if container.get("name") == BASE_CONTAINER:
            return container
    raise ConfigError(f"the worker pod has no container named {BASE_CONTAINER!r}", key="kubernetes.pod_template_file")


def pod_override_of(workload: ExecuteTask) -> Obj:
    override = (workload.executor_config or {}).get("pod_override")
    if override is None:
        return {}
    if not isinstance(override, dict):
        raise ConfigError(
            f"task {workload.dag_id}.{workload.task_id}: executor_config['pod_override'] must be a mapping in "
            f"Kubernetes JSON form (a Pod fragment), not {type(override).__name__}",
            key="executor_config.pod_override",
        )
    return override


def namespace_for(workload: ExecuteTask, config: WorkerPodConfig) -> str:
    override = pod_override_of(workload)
    return str((override.get("metadata") or {}).get("namespace") or config.namespace)


# -- the build --------------------------------------------------------------------------------------
def _settings_layer(config: WorkerPodConfig) -> Obj:
    container: Obj = {"name": BASE_CONTAINER}
    if config.image:
        container["image"] = config.image
    if config.image_pull_policy:
        container["imagePullPolicy"] = config.image_pull_policy
    env_from = []
    if config.env_from_secret:
        env_from.append({"secretRef": {"name": config.env_from_secret}})
    if config.env_from_configmap:
        env_from.append({"configMapRef": {"name": config.env_from_configmap}})
    if env_from:
        container["envFrom"] = env_from
    if config.resources:
        container["resources"] = copy.deepcopy(config.resources)
    volumes, mounts = [], []
    for claim, volume, path, read_only in (
        (config.dags_volume_claim, DAGS_VOLUME, config.dags_mount_path, True),
        (config.logs_volume_claim, LOGS_VOLUME, config.logs_mount_path, False),
    ):
        if claim:
            volumes.append({"name": volume, "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}})
            mounts.append({"name": volume, "mountPath": path, "readOnly": read_only})
    if mounts:
        container["volumeMounts"] = mounts
    spec: Obj = {"containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    if config.service_account_name:
        spec["serviceAccountName"] = config.service_account_name
    if config.node_selector:
        spec["nodeSelector"] = dict(config.node_selector)
    if config.tolerations:
        spec["tolerations"] = copy.deepcopy(config.tolerations)
    if config.affinity:
        spec["affinity"] = copy.deepcopy(config.affinity)
    metadata: Obj = {"namespace": config.namespace}
    if config.labels:
        metadata["labels"] = dict(config.labels)
    if config.annotations:
        metadata["annotations"] = dict(config.annotations)
    return {"metadata": metadata, "spec": spec}


def _workload_layer(workload: ExecuteTask, config: WorkerPodConfig) -> Obj:
    env = [
        {"name": "TRADEWIND__CORE__DAGS_FOLDER", "value": config.dags_mount_path},
        {"name": "TRADEWIND__LOGGING__BASE_LOG_FOLDER", "value": config.logs_mount_path},
        {"name": "TRADEWIND__CORE__HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        # The try's lines go to the container log too: `kubectl logs` follows it, the executor saves it.
        {"name": "TRADEWIND__LOGGING__TASK_OUTPUT_TO_STDOUT", "value": "true"},
    ]
    env += [{"name": name, "value": value} for name, value in sorted(config.remote_logging.items())]
    if workload.token:
        # The token through the try's Secret, never in the spec; the URL in clear (it is no secret).
        secret_ref = {"name": token_secret_name(workload.try_key), "key": TOKEN_SECRET_KEY}
        env.append({"name": TASK_TOKEN_ENV, "valueFrom": {"secretKeyRef": secret_ref}})
        if workload.api_url:
            env.append({"name": EXECUTION_API_URL_ENV, "value": workload.api_url})
    container = {"name": BASE_CONTAINER, "command": workload.command(config.executable), "args": [], "env": env}
    return {"spec": {"restartPolicy": "Never", "containers": [container]}}


def build_worker_pod(
    workload: ExecuteTask,
    config: WorkerPodConfig,
    *,
    template: Obj,
    owner: str,
    launch: int = 1,
) -> Obj:
    """The pod for one launch of one task try. Raises ConfigError for a template or override that does not
    give a valid pod (naming the task and the field)."""
    check_pod_template(template, "(pod template)")
    pod = merge(template, _settings_layer(config))
    pod = merge(pod, _workload_layer(workload, config))
    override = pod_override_of(workload)
    if override:
        pod = merge(pod, {k: v for k, v in override.items() if k not in ("apiVersion", "kind")})
    pod["apiVersion"], pod["kind"] = "v1", "Pod"
    meta = pod.setdefault("metadata", {})
    for owned in ("generateName", "resourceVersion", "uid", "creationTimestamp"):
        meta.pop(owned, None)
    meta["name"] = pod_name(workload, launch)
    meta["labels"] = {**(meta.get("labels") or {}), **worker_labels(workload, owner)}
    meta["annotations"] = {**(meta.get("annotations") or {}), **worker_annotations(workload, launch)}
    container = base_container(pod)
    if not container.get("image"):
        raise ConfigError(
            f"task {workload.dag_id}.{workload.task_id}: the worker pod's {BASE_CONTAINER!r} container has no image "
            "(set kubernetes.image, the pod template, or pod_override)",
            key="kubernetes.image",
        )
    pod.pop("status", None)
    return pod
