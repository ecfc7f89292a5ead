"""Test twins for the scheduler: an executor that records, and builders for serialized DAGs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.core.workload import ExecuteTask
from tradewind.executors.base import Executor
from tradewind.store import dags
from tradewind.store.engine import transaction

START = datetime(2026, 1, 1, tzinfo=UTC)


class RecordingExecutor(Executor):
    """An in-memory executor twin: remembers what it was given; tests finish tries as a runner would."""

    name = "local"

    def __init__(self, parallelism: int = 32) -> None:
        super().__init__(parallelism)
        self.queued: list[ExecuteTask] = []
        self.carrying: set[TaskTryKey] = set()
        self.terminated: list[TaskTryKey] = []

    def start(self) -> None: ...

    def stop(self, *, wait: bool = True) -> None: ...

    def queue_workload(self, workload: ExecuteTask) -> str | None:
        self.queued.append(workload)
        self.carrying.add(workload.try_key)
        return None

    def terminate(self, key: TaskTryKey) -> None:
        self.terminated.append(key)

    def running_keys(self) -> set[TaskTryKey]:
        return set(self.carrying)

    def finish(self, key: TaskTryKey, kind: TryProcessEvent, reason: str | None = None) -> None:
        """The try's compute ends: ``kind`` is EXITED_CLEANLY or FAILED."""
        self.carrying.discard(key)
        self._emit(TaskEvent(key, kind, reason=reason))

    def started(self, key: TaskTryKey, external_id: str) -> None:
        """The try's compute started, under ``external_id`` (a pid, a pod's name)."""
        self._emit(TaskEvent(key, TryProcessEvent.STARTED, external_id=external_id))

    def take(self) -> list[ExecuteTask]:
        out, self.queued = self.queued, []
        return out


def make_dag(dag_id: str, edges: dict[str, list[str]], **dag_fields: object) -> SerializedDag:
    """A serialized DAG from ``{task_id: [downstream ids]}``; per-task fields via ``tasks={id: {...}}``."""
    task_fields: dict[str, dict[str, object]] = dag_fields.pop("tasks", {})  # type: ignore[assignment]
    ids = list(dict.fromkeys([*edges, *(d for ds in edges.values() for d in ds)]))
    upstream: dict[str, list[str]] = {t: [] for t in ids}
    for src, downs in edges.items():
        for d in downs:
            upstream[d].append(src)
    tasks = [
        SerializedTask(
            task_id=t,
            operator="BashOperator",
            upstream=upstream[t],
            downstream=edges.get(t, []),
            **task_fields.get(t, {}),  # type: ignore[arg-type]
        )
        for t in ids
    ]
    return SerializedDag(dag_id=dag_id, fileloc=f"/dags/{dag_id}.py", relative_fileloc=f"{dag_id}.py",
                         tasks=tasks, **dag_fields)  # type: ignore[arg-type]


def store_dag(sessions: sessionmaker[Session], sdag: SerializedDag, *, paused: bool = False) -> None:
    with transaction(sessions) as session:
        dags.upsert_dag(session=session, sdag=sdag, paused_default=paused, now=START)
