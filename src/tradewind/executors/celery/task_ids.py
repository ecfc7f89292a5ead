"""The Celery task id of a task try: derived from its key, so a resend or a restarted scheduler finds it."""

from __future__ import annotations

import uuid

from tradewind.core.keys import TaskTryKey

#: Fixed namespace: the same try always maps to the same id, in every process and every release.
_NAMESPACE = uuid.UUID("5b0f4f5e-6c1d-4e0a-9a53-7d2b8a3c6e11")


def celery_task_id(key: TaskTryKey) -> str:
    """A UUID (Celery's id format) computed from dag_id, run_id, task_id, map_index and try_number."""
    ti = key.ti
    # \x1f (unit separator) cannot appear in ids, so distinct keys never join to the same text.
    name = "\x1f".join([ti.dag_id, ti.run_id, ti.task_id, str(ti.map_index), str(key.try_number)])
    return str(uuid.uuid5(_NAMESPACE, name))
