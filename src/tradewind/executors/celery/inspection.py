"""What the Celery workers say about themselves: who answers, which queues they consume, what they run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from celery import Celery

from tradewind.executors.celery.worker_task import TASK_NAME


@dataclass(frozen=True)
class ActiveTask:
    """A try a worker is running now."""

    celery_id: str
    dag_id: str | None
    task_id: str | None
    run_id: str | None
    map_index: int | None
    try_number: int | None
    started: datetime | None


@dataclass(frozen=True)
class WorkerStatus:
    hostname: str
    queues: list[str] = field(default_factory=list)
    concurrency: int | None = None
    active: list[ActiveTask] = field(default_factory=list)


def _active_task(info: dict[str, Any]) -> ActiveTask:
    args = info.get("args") or []
    workload = args[0] if info.get("name") == TASK_NAME and args and isinstance(args[0], dict) else {}
    started = info.get("time_start")
    return ActiveTask(
        celery_id=str(info.get("id")),
        dag_id=workload.get("dag_id"),
        task_id=workload.get("task_id"),
        run_id=workload.get("run_id"),
        map_index=workload.get("map_index"),
        try_number=workload.get("try_number"),
        started=datetime.fromtimestamp(started, UTC) if isinstance(started, int | float) else None,
    )


def list_workers(app: Celery, *, timeout: float = 1.0) -> list[WorkerStatus]:
    """Workers that answer a ping within ``timeout`` seconds, with their queues, pool size and active tries.

    The ping waits the whole ``timeout`` (any number of workers may answer); the follow-up questions go to
    the workers that answered and return as soon as each has replied.
    """
    pings = app.control.inspect(timeout=timeout).ping() or {}
    names = sorted(pings)
    if not names:
        return []
    inspect = app.control.inspect(destination=names, timeout=timeout, limit=len(names))
    active = inspect.active() or {}
    queues = inspect.active_queues() or {}
    stats = inspect.stats() or {}
    workers = []
    for name in names:
        pool = (stats.get(name) or {}).get("pool") or {}
        concurrency = pool.get("max-concurrency")
        workers.append(
            WorkerStatus(
                hostname=name,
                queues=sorted(q["name"] for q in queues.get(name) or [] if "name" in q),
                concurrency=concurrency if isinstance(concurrency, int) else None,
                active=[_active_task(info) for info in active.get(name) or []],
            )
        )
    return workers
