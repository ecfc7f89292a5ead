"""Triggers that wait for other DAGs: WorkflowTrigger (tasks, a task group or runs of another DAG reach a
state; what ExternalTaskSensor defers on) and DagStateTrigger (runs, by id, reach a state). They read the
states through the triggerer, on a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

from tradewind.sdk.external_states import count_in_states
from tradewind.sdk.runtime import get_runtime
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent, classpath_of


class WorkflowTrigger(BaseTrigger):
    """Fires ``{"status": "success"}`` when the tasks (all of ``external_task_ids``), the task group or the
    runs of ``external_dag_id`` at ``logical_dates`` are all in ``allowed_states``; ``{"status": "failed"}``
    as soon as one is in ``failed_states``, ``{"status": "skipped"}`` in ``skipped_states``."""

    def __init__(
        self,
        external_dag_id: str,
        logical_dates: Sequence[datetime],
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Collection[str] | None = None,
        failed_states: Collection[str] | None = None,
        skipped_states: Collection[str] | None = None,
        poke_interval: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.external_dag_id = external_dag_id
        self.logical_dates = list(logical_dates)
        self.external_task_ids = list(external_task_ids) if external_task_ids is not None else None
        self.external_task_group_id = external_task_group_id
        self.allowed_states = list(allowed_states) if allowed_states is not None else ["success"]
        self.failed_states = list(failed_states or [])
        self.skipped_states = list(skipped_states or [])
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(WorkflowTrigger), {
            "external_dag_id": self.external_dag_id,
            "logical_dates": self.logical_dates,
            "external_task_ids": self.external_task_ids,
            "external_task_group_id": self.external_task_group_id,
            "allowed_states": self.allowed_states,
            "failed_states": self.failed_states,
            "skipped_states": self.skipped_states,
            "poke_interval": self.poke_interval,
        }

    def _count(self, states: Collection[str]) -> float:
        return count_in_states(
            dag_id=self.external_dag_id, dates=self.logical_dates, states=states,
            task_ids=self.external_task_ids, group_id=self.external_task_group_id,
        )  # fmt: skip

    def _status(self) -> str | None:
        if self.failed_states and self._count(self.failed_states) > 0:
            return "failed"
        if self.skipped_states and self._count(self.skipped_states) > 0:
            return "skipped"
        if self._count(self.allowed_states) == len(self.logical_dates):
            return "success"
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while (status := await asyncio.to_thread(self._status)) is None:
            await asyncio.sleep(self.poke_interval)
        yield TriggerEvent({"status": status})


class DagStateTrigger(BaseTrigger):
    """Fires when every run in ``run_ids`` of ``dag_id`` is in one of ``states``; the payload is
    ``{"status": "success", "run_states": {run_id: state}}``."""

    def __init__(
        self,
        dag_id: str,
        states: Collection[str],
        run_ids: Sequence[str],
        poll_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.states = list(states)
        self.run_ids = list(run_ids)
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(DagStateTrigger), {
            "dag_id": self.dag_id, "states": self.states, "run_ids": self.run_ids,
            "poll_interval": self.poll_interval,
        }  # fmt: skip

    def _states(self) -> dict[str, str | None]:
        runtime = get_runtime()
        return {run_id: runtime.dag_run_state(dag_id=self.dag_id, run_id=run_id) for run_id in self.run_ids}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            states = await asyncio.to_thread(self._states)
            if all(state in self.states for state in states.values()):
                yield TriggerEvent({"status": "success", "run_states": states})
                return
            await asyncio.sleep(self.poll_interval)
