"""Which task try a worker pod runs: its name, labels (sanitised, for selectors) and annotations (exact)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.workload import ExecuteTask

#: Every worker pod carries this label; the executor lists and watches by it.
WORKER_LABEL = "tradewind-worker"
#: Set on failed pods kept for debugging: they are never adopted again.
KEPT_LABEL = "tradewind-kept"
OWNER_LABEL = "scheduler_job_id"
DAG_LABEL, TASK_LABEL, RUN_LABEL = "dag_id", "task_id", "run_id"
TRY_LABEL, MAP_LABEL = "try_number", "map_index"

ANNOTATION_PREFIX = "tradewind.io/"
DAG_ANNOTATION = ANNOTATION_PREFIX + "dag-id"
TASK_ANNOTATION = ANNOTATION_PREFIX + "task-id"
RUN_ANNOTATION = ANNOTATION_PREFIX + "run-id"
MAP_ANNOTATION = ANNOTATION_PREFIX + "map-index"
TRY_ANNOTATION = ANNOTATION_PREFIX + "try-number"
#: Which pod of the same try this is (a try whose pod never started is launched again).
LAUNCH_ANNOTATION = ANNOTATION_PREFIX + "launch"
#: Set once the pod's output has been appended to the try's log file, so a restart does not copy it twice.
ARCHIVED_ANNOTATION = ANNOTATION_PREFIX + "log-archived"

#: Selector for pods an executor may adopt: workers not kept for debugging.
ADOPTABLE_SELECTOR = f"{WORKER_LABEL}=true,{KEPT_LABEL}!=true"

_LABEL_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
_NAME_INVALID = re.compile(r"[^a-z0-9-]+")
MAX_NAME = 63
_HASH_LEN = 8


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def safe_label_value(value: str) -> str:
    """A valid label value (<= 63 chars, alphanumeric at both ends). Values that had to change get a hash
    of the original, so two different raw values do not end up with the same label."""
    cleaned = _LABEL_INVALID.sub("_", value)
    cleaned = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cleaned)
    if cleaned == value and len(value) <= 63:
        return value
    suffix = _digest(value)[:_HASH_LEN]
    head = cleaned[: 63 - _HASH_LEN - 1].rstrip("_.-")
    return f"{head}-{suffix}" if head else suffix


def _name_part(value: str) -> str:
    return _NAME_INVALID.sub("-", value.lower()).strip("-")


def pod_name(workload: ExecuteTask, launch: int = 1) -> str:
    """``dag-task-hash``: readable, a valid DNS-1123 label, and the same for the same try and launch (so
    a create retried after a lost response finds the pod it already made)."""
    digest = _digest(workload.dag_id, workload.run_id, workload.task_id, workload.map_index,
                     workload.try_number, launch)[:_HASH_LEN]
    budget = MAX_NAME - _HASH_LEN - 1
    dag, task = _name_part(workload.dag_id), _name_part(workload.task_id)
    if len(dag) + len(task) + 1 > budget:
        task_share = max(budget // 2, budget - len(dag) - 1)
        task = task[:task_share].strip("-")
        dag = dag[: max(0, budget - len(task) - 1)].strip("-")
    stem = "-".join(p for p in (dag, task) if p)
    return f"{stem}-{digest}" if stem else f"task-{digest}"


#: The key of the per-try Secret holding the try's token (``token_secret``).
TOKEN_SECRET_KEY = "token"
#: Labels the per-try token Secrets (with the worker labels of their try).
TOKEN_LABEL = "tradewind-task-token"


def token_secret_name(key: TaskTryKey) -> str:
    """The Secret that hands one try's token to its pods (every launch of the try uses the same one)."""
    ti = key.ti
    return "tradewind-token-" + _digest(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, key.try_number)[:16]


def token_secret(workload: ExecuteTask, namespace: str, owner: str) -> dict[str, Any]:
    """The try's token as a Secret: the pod reads it through ``secretKeyRef``, so the token never appears in
    the pod spec; the executor deletes the Secret when it is done with the try."""
    labels = {**worker_labels(workload, owner), TOKEN_LABEL: "true"}
    labels.pop(WORKER_LABEL, None)  # not a worker pod: pod selectors must not match it
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": token_secret_name(workload.try_key), "namespace": namespace, "labels": labels},
        "data": {TOKEN_SECRET_KEY: base64.b64encode(workload.token.encode()).decode()},
    }


def worker_labels(workload: ExecuteTask, owner: str) -> dict[str, str]:
    labels = {
        WORKER_LABEL: "true",
        DAG_LABEL: safe_label_value(workload.dag_id),
        TASK_LABEL: safe_label_value(workload.task_id),
        RUN_LABEL: safe_label_value(workload.run_id),
        TRY_LABEL: str(workload.try_number),
        OWNER_LABEL: safe_label_value(owner),
    }
    if workload.map_index >= 0:  # "-1" is not a valid label value; unmapped tasks carry no map_index label
        labels[MAP_LABEL] = str(workload.map_index)
    return labels


def worker_annotations(workload: ExecuteTask, launch: int) -> dict[str, str]:
    return {
        DAG_ANNOTATION: workload.dag_id,
        TASK_ANNOTATION: workload.task_id,
        RUN_ANNOTATION: workload.run_id,
        MAP_ANNOTATION: str(workload.map_index),
        TRY_ANNOTATION: str(workload.try_number),
        LAUNCH_ANNOTATION: str(launch),
    }


def try_key_of(pod: dict[str, Any]) -> TaskTryKey | None:
    """The try a pod runs, from its exact annotations; None for pods that are not Tradewind workers."""
    meta = pod.get("metadata") or {}
    if (meta.get("labels") or {}).get(WORKER_LABEL) != "true":
        return None
    notes = meta.get("annotations") or {}
    try:
        ti = TaskInstanceKey(
            notes[DAG_ANNOTATION], notes[RUN_ANNOTATION], notes[TASK_ANNOTATION], int(notes[MAP_ANNOTATION])
        )
        return TaskTryKey(ti, int(notes[TRY_ANNOTATION]))
    except (KeyError, ValueError):
        return None


def try_selector(key: TaskTryKey) -> str:
    """The label selector of one try's worker pods, every launch and kept ones included (labels are
    sanitised: confirm each match with ``try_key_of``)."""
    ti = key.ti
    return (f"{WORKER_LABEL}=true,{DAG_LABEL}={safe_label_value(ti.dag_id)},{TASK_LABEL}={safe_label_value(ti.task_id)},"
            f"{RUN_LABEL}={safe_label_value(ti.run_id)},{TRY_LABEL}={key.try_number}")


def launch_of(pod: dict[str, Any]) -> int:
    try:
        return int(((pod.get("metadata") or {}).get("annotations") or {}).get(LAUNCH_ANNOTATION, "1"))
    except ValueError:
        return 1


def owner_of(pod: dict[str, Any]) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL)
