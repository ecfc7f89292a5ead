"""Setup and teardown tasks in a stored DAG: which setups a task waits for, which work a teardown waits for,
which tasks decide a run's state, and which tasks a clear covers (Airflow's rules, on task ids only)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewind.core.serialized_dag import SerializedDag


class SetupTeardownIndex:
    """Relations of one SerializedDag's setups and teardowns, computed on first use and kept."""

    def __init__(self, sdag: SerializedDag) -> None:
        self._sdag = sdag
        self._tasks = sdag.task_dict
        self.has_setups = any(t.is_setup for t in sdag.tasks)
        self.has_teardowns = any(t.is_teardown for t in sdag.tasks)
        self._ancestors: dict[str, frozenset[str]] = {}
        self._descendants: dict[str, frozenset[str]] = {}
        self._indirect_setups: dict[str, tuple[str, ...]] = {}
        self._teardown_scope: dict[str, tuple[str, ...]] = {}

    # -- graph walks ----------------------------------------------------------------------------------

    def ancestors(self, task_id: str) -> frozenset[str]:
        if task_id not in self._ancestors:
            self._ancestors[task_id] = frozenset(self._walk(task_id, upstream=True))
        return self._ancestors[task_id]

    def descendants(self, task_id: str) -> frozenset[str]:
        if task_id not in self._descendants:
            self._descendants[task_id] = frozenset(self._walk(task_id, upstream=False))
        return self._descendants[task_id]

    def _walk(self, task_id: str, *, upstream: bool) -> set[str]:
        seen: set[str] = set()
        start = self._tasks[task_id]
        stack = list(start.upstream if upstream else start.downstream)
        while stack:
            tid = stack.pop()
            if tid in seen or tid not in self._tasks:
                continue
            seen.add(tid)
            task = self._tasks[tid]
            stack.extend(task.upstream if upstream else task.downstream)
        return seen

    def teardowns_of(self, setup_id: str) -> list[str]:
        """The teardowns directly downstream of a setup."""
        return [
            d for d in self._tasks[setup_id].downstream if d in self._tasks and self._tasks[d].is_teardown
        ]

    # -- what a task waits for ------------------------------------------------------------------------

    def relevant_setups_and_teardowns(self, task_id: str) -> set[str]:
        """The upstream setups this task uses (a setup with no teardown, or one whose teardown is downstream
        of the task), with their teardowns: what must run again when the task is cleared."""
        found: set[str] = set()
        if not self.has_setups:
            return found
        teardowns_below = {t for t in self.descendants(task_id) if self._tasks[t].is_teardown}
        for up in self.ancestors(task_id):
            if not self._tasks[up].is_setup:
                continue
            teardowns = self.teardowns_of(up)
            if not teardowns or teardowns_below.intersection(teardowns):
                found.add(up)
                found.update(t for t in teardowns if t != task_id)
        return found

    def indirect_setups(self, task_id: str) -> tuple[str, ...]:
        """The relevant setups of a work task that are not its direct upstream: each must succeed before
        it runs (a failed one fails it, a skipped one skips it)."""
        if task_id not in self._indirect_setups:
            task = self._tasks[task_id]
            if task.is_teardown or not self.has_setups:
                result: tuple[str, ...] = ()
            else:
                direct = set(task.upstream)
                result = tuple(
                    sorted(
                        t
                        for t in self.relevant_setups_and_teardowns(task_id)
                        if self._tasks[t].is_setup and t not in direct
                    )
                )
            self._indirect_setups[task_id] = result
        return self._indirect_setups[task_id]

    def teardown_scope(self, task_id: str) -> tuple[str, ...]:
        """For a teardown: the tasks between its setups and it that are not its direct upstream. All of them
        must be done before it runs, so cleanup never starts under running work."""
        if task_id not in self._teardown_scope:
            task = self._tasks[task_id]
            result: tuple[str, ...] = ()
            if task.is_teardown:
                direct = set(task.upstream)
                indirect = self.ancestors(task_id) - direct
                below_setups: set[str] = set()
                for up in direct:
                    if up in self._tasks and self._tasks[up].is_setup:
                        below_setups |= self.descendants(up)
                result = tuple(sorted(indirect & below_setups))
            self._teardown_scope[task_id] = result
        return self._teardown_scope[task_id]

    # -- run state ------------------------------------------------------------------------------------

    def run_state_task_ids(self) -> list[str]:
        """The tasks whose outcome decides the run's state: leaves, where a teardown does not count (as a
        leaf, nor as a downstream that hides a leaf) unless it has ``on_failure_fail_dagrun``."""
        tasks = self._tasks

        def ignorable(task_id: str) -> bool:
            task = tasks[task_id]
            return task.is_teardown and not task.on_failure_fail_dagrun

        leaves = [
            t.task_id
            for t in self._sdag.tasks
            if not ignorable(t.task_id) and all(d not in tasks or ignorable(d) for d in t.downstream)
        ]
        return leaves or [t.task_id for t in self._sdag.tasks if not t.downstream]


def clear_scope(
    sdag: SerializedDag,
    task_ids: Collection[str],
    *,
    include_downstream: bool = False,
    include_upstream: bool = False,
) -> set[str]:
    """The task ids a clear of ``task_ids`` covers, as Airflow's clear: downstream tasks if asked; the
    setups a cleared work task uses, with their teardowns (the resource is created again and removed
    again); the teardowns of a cleared setup. With ``include_upstream``, every upstream task and the
    teardowns of upstream setups."""
    index = sdag.setup_teardown
    tasks = sdag.task_dict
    chosen = set(task_ids)
    wanted = set(chosen)
    for task_id in chosen:
        task = tasks[task_id]
        if include_downstream:
            for down in index.descendants(task_id):
                wanted.add(down)
                if down not in chosen and not tasks[down].is_setup and not tasks[down].is_teardown:
                    wanted |= index.relevant_setups_and_teardowns(down)
        if include_upstream:
            for up in index.ancestors(task_id):
                wanted.add(up)
                if tasks[up].is_setup:
                    wanted.update(t for t in index.teardowns_of(up) if t != task_id)
        elif not task.is_setup and not task.is_teardown:
            wanted |= index.relevant_setups_and_teardowns(task_id)
        if task.is_setup and not include_downstream:
            wanted.update(index.teardowns_of(task_id))
    return wanted
