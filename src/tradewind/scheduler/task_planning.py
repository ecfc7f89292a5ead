"""Examine running DAG runs: decide which task instances are ready, skipped or upstream_failed, expand
mapped tasks, retry what is due, and finish runs."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.core.states import FINISHED_TI_STATES, DagRunState, TaskInstanceState, ti_state_or_none
from tradewind.scheduler.mapped_expansion import expansion_size, group_sources, group_spec, relevant_upstream
from tradewind.sdk.errors import TaskExecutionError
from tradewind.sdk.trigger_rule import Decision, UpstreamCounts, evaluate_trigger_rule
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store import dag_runs, scheduling, task_instances
from tradewind.store.run_progress import RunProgress, run_progress
from tradewind.store.scheduling import ALL_RUNS, PlannedTi, RunScope
from tradewind.store.serialized_dag_cache import SerializedDagCache
from tradewind.store.tables import DagRunModel

log = logging.getLogger(__name__)


@dataclass
class PlanStats:
    scheduled: int = 0
    finished_runs: list[tuple[str, str, DagRunState]] = field(default_factory=list)
    #: (dag_id, state, seconds since the run started) of each finished run that had started.
    run_durations: list[tuple[str, str, float]] = field(default_factory=list)


@dataclass
class _Run:
    """The task instances of one run, with states updated as this pass decides them."""

    model: DagRunModel
    sdag: SerializedDag
    by_task: dict[str, list[PlannedTi]]
    state: dict[int, TaskInstanceState | None]
    #: Instances this pass decided to schedule (from no state), written together by ``_write_scheduled``;
    #: ``state`` holds them as scheduled meanwhile, which no decision of the pass tells from no state.
    to_schedule: list[PlannedTi] = field(default_factory=list)

    def states_of(self, task_id: str) -> list[TaskInstanceState | None]:
        return [self.state[ti.id] for ti in self.by_task.get(task_id, [])]

    def replace(self, old: PlannedTi, new: PlannedTi) -> None:
        """``old``'s row changed in the database (a placeholder that became map index 0)."""
        tis = self.by_task[old.task_id]
        tis[tis.index(old)] = new
        self.state[new.id] = ti_state_or_none(new.state)


def plan_runs(
    *,
    session: Session,
    cache: SerializedDagCache,
    now: datetime,
    terminate: Callable[[TaskTryKey], None],
    scope: RunScope = ALL_RUNS,
) -> PlanStats:
    stats = PlanStats()
    runs = scheduling.running_runs(session=session, scope=scope)
    progress = run_progress(session=session, runs=runs)
    to_plan: list[tuple[DagRunModel, SerializedDag]] = []
    for run in runs:
        sdag = cache.find(session, run.dag_id)
        if sdag is None:
            log.warning("DAG %s of run %s is gone; failing the run", run.dag_id, run.run_id)
            _finish(session, run, DagRunState.FAILED, now, stats, sdag=None, reason="dag_gone")
            continue
        if not _nothing_to_decide(run, sdag, progress.get((run.dag_id, run.run_id)), now):
            to_plan.append((run, sdag))
        run.last_scheduling_decision = now
    tis = scheduling.task_instances_of_runs(session=session, runs=[run for run, _ in to_plan])
    grouped: dict[tuple[str, str], list[PlannedTi]] = defaultdict(list)
    for ti in tis:
        grouped[(ti.dag_id, ti.run_id)].append(ti)
    for run, sdag in to_plan:
        _plan_run(session, run, sdag, grouped[(run.dag_id, run.run_id)], now, stats, terminate)
    return stats


def _nothing_to_decide(
    run: DagRunModel, sdag: SerializedDag, progress: RunProgress | None, now: datetime
) -> bool:
    """Whether planning the run would change nothing: every instance is waiting on its try (scheduled,
    queued, running, deferred), none is left to decide or to end, its tasks are the DAG's own, and it has
    not timed out. Such a run's instances are not read at all."""
    return (
        progress is not None
        and progress.to_plan == 0
        and progress.unfinished > 0
        and progress.task_ids == sdag.task_dict.keys()
        and not _timed_out(run, sdag, now)
    )


def _plan_run(
    session: Session,
    run: DagRunModel,
    sdag: SerializedDag,
    tis: list[PlannedTi],
    now: datetime,
    stats: PlanStats,
    terminate: Callable[[TaskTryKey], None],
) -> None:
    tis = _reconcile_structure(session, run, sdag, tis)
    view = _Run(run, sdag, defaultdict(list), {ti.id: ti_state_or_none(ti.state) for ti in tis})
    for ti in tis:
        view.by_task[ti.task_id].append(ti)

    if _timed_out(run, sdag, now):
        _time_out(session, view, now, terminate)
        _finish(session, run, DagRunState.FAILED, now, stats, sdag=sdag, reason="timed_out")
        return

    for task in sdag.tasks:
        for ti in list(view.by_task.get(task.task_id, [])):
            stats.scheduled += _plan_ti(session, view, task, ti, now)
    stats.scheduled -= _write_scheduled(session, view, now)

    states = list(view.state.values())
    if states and all(s in FINISHED_TI_STATES for s in states):
        final = _final_state(view)
        _finish(
            session,
            run,
            final,
            now,
            stats,
            sdag=sdag,
            reason="success" if final == DagRunState.SUCCESS else "task_failure",
        )


def _move(session: Session, view: _Run, ti: PlannedTi, target: TaskInstanceState, **values: Any) -> bool:
    ok = task_instances.transition(
        session=session, key=TaskInstanceKey.of(ti), expected=view.state[ti.id], target=target, values=values
    )
    if ok:
        view.state[ti.id] = target
    return ok


def _end_now(
    session: Session, view: _Run, ti: PlannedTi, target: TaskInstanceState, now: datetime, reason: str
) -> bool:
    """``_move`` to a state that ends the instance before it ran: started and ended ``now``, with ``reason``."""
    return _move(session, view, ti, target, start_date=now, end_date=now, state_reason=reason)


def _plan_ti(session: Session, view: _Run, task: SerializedTask, ti: PlannedTi, now: datetime) -> int:
    state = view.state[ti.id]
    if state == TaskInstanceState.UP_FOR_RETRY:
        if ti.next_retry_at is None or ti.next_retry_at <= now:
            return int(_move(session, view, ti, TaskInstanceState.SCHEDULED, scheduled_at=now))
        return 0
    if state == TaskInstanceState.UP_FOR_RESCHEDULE:
        # next_poke_at stays set until the try is queued: it tells dispatch to keep the try number.
        if ti.next_poke_at is None or ti.next_poke_at <= now:
            return int(_move(session, view, ti, TaskInstanceState.SCHEDULED, scheduled_at=now))
        return 0
    if state is not None:
        return 0
    if task.mapped_group is not None and ti.map_index == -1:
        return _plan_group_placeholder(session, view, task, ti, now)
    decision = _setup_teardown_gate(
        view, task, evaluate_trigger_rule(task.trigger_rule, _upstream_counts(view, task, ti))
    )
    if decision == "wait":
        return 0
    if decision == "skip":
        _move(session, view, ti, TaskInstanceState.SKIPPED, start_date=now, end_date=now)
        return 0
    if decision == "upstream_failed":
        _move(session, view, ti, TaskInstanceState.UPSTREAM_FAILED, start_date=now, end_date=now)
        return 0
    if task.depends_on_past and not _past_succeeded(session, view.model, ti):
        return 0
    if task.expand is not None and ti.map_index == -1:
        return _expand(session, view, task, ti, now)
    if not task.is_empty:
        view.to_schedule.append(ti)
        view.state[ti.id] = TaskInstanceState.SCHEDULED
        return 1
    # An empty task succeeds at once, which its downstream tasks may see later in this pass.
    if _move(session, view, ti, TaskInstanceState.SCHEDULED, scheduled_at=now):
        _move(session, view, ti, TaskInstanceState.SUCCESS, start_date=now, end_date=now, duration=0.0)
    return 0


def _write_scheduled(session: Session, view: _Run, now: datetime) -> int:
    """Schedule the instances the pass decided ready, in one statement; how many another process moved first
    (their state in ``view`` goes back to none, as a lost compare-and-set leaves it)."""
    if not view.to_schedule:
        return 0
    moved = task_instances.schedule_unstarted(session=session, ids=[ti.id for ti in view.to_schedule], now=now)
    lost = [ti for ti in view.to_schedule if ti.id not in moved]
    for ti in lost:
        view.state[ti.id] = None
    return len(lost)


def _upstream_counts(view: _Run, task: SerializedTask, ti: PlannedTi) -> UpstreamCounts:
    upstream = {
        up: relevant_upstream(view.sdag, task, ti, up, view.by_task.get(up, [])) for up in task.upstream
    }
    states = Counter(view.state[t.id] for tis in upstream.values() for t in tis)
    setups = [up for up in task.upstream if up in view.sdag.task_dict and view.sdag.task_dict[up].is_setup]
    setup_states = Counter(view.state[t.id] for up in setups for t in upstream[up])
    return UpstreamCounts(
        total=sum(len(tis) for tis in upstream.values()),
        success=states[TaskInstanceState.SUCCESS],
        skipped=states[TaskInstanceState.SKIPPED],
        failed=states[TaskInstanceState.FAILED],
        upstream_failed=states[TaskInstanceState.UPSTREAM_FAILED],
        removed=states[TaskInstanceState.REMOVED],
        setup=sum(len(upstream[up]) for up in setups),
        setup_success=setup_states[TaskInstanceState.SUCCESS],
        setup_skipped=setup_states[TaskInstanceState.SKIPPED],
    )


def _setup_teardown_gate(view: _Run, task: SerializedTask, decision: Decision) -> Decision:
    """Airflow's extra conditions around setups: a work task also needs its indirect setups to have
    succeeded (one failed: upstream_failed, one skipped: skipped); a teardown also waits until every task
    between its setups and it is done."""
    index = view.sdag.setup_teardown
    if task.is_teardown:
        scope = index.teardown_scope(task.task_id)
        if decision == "run" and any(s not in FINISHED_TI_STATES for t in scope for s in view.states_of(t)):
            return "wait"
        return decision
    setups = index.indirect_setups(task.task_id)
    if not setups:
        return decision
    states = [s for t in setups for s in view.states_of(t)]
    if any(s in (TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED) for s in states):
        return "upstream_failed"
    if TaskInstanceState.SKIPPED in states:
        return "skip"
    if decision == "run" and any(s is not TaskInstanceState.SUCCESS for s in states):
        return "wait"
    return decision


def _past_succeeded(session: Session, run: DagRunModel, ti: PlannedTi) -> bool:
    previous = scheduling.previous_run(session=session, run=run)
    if previous is None:
        return True
    past = scheduling.task_instance_state(
        session=session, key=TaskInstanceKey(ti.dag_id, previous.run_id, ti.task_id, ti.map_index)
    )
    return past is scheduling.MISSING or past in (TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED)


def _expand(session: Session, view: _Run, task: SerializedTask, ti: PlannedTi, now: datetime) -> int:
    assert task.expand is not None
    try:
        length = expansion_size(session, ti, task.expand, what=repr(task.task_id))
    except TaskExecutionError as exc:
        _end_now(session, view, ti, TaskInstanceState.UPSTREAM_FAILED, now, str(exc))
        return 0
    if length == 0:
        _end_now(session, view, ti, TaskInstanceState.SKIPPED, now, "mapped over nothing")
        return 0
    first, created = scheduling.expand_mapped(session=session, placeholder=ti, length=length, now=now)
    view.replace(ti, first)
    for new in created:
        view.state[new.id] = TaskInstanceState.SCHEDULED
        view.by_task[task.task_id].append(new)
    return length


def _plan_group_placeholder(
    session: Session, view: _Run, task: SerializedTask, ti: PlannedTi, now: datetime
) -> int:
    """A task of a mapped task group, not yet expanded: once the tasks giving the group's values succeeded,
    it becomes one instance per map index (no state yet), each then planned against the same map index of
    its upstream tasks in the group; until then the trigger rule can only skip or fail it as a whole."""
    try:
        spec = group_spec(view.sdag, task)
    except TaskExecutionError as exc:
        _end_now(session, view, ti, TaskInstanceState.UPSTREAM_FAILED, now, str(exc))
        return 0
    source_states = [s for src in group_sources(spec) for s in view.states_of(src)]
    if all(s == TaskInstanceState.SUCCESS for s in source_states):
        try:
            length = expansion_size(session, ti, spec, what=f"task group {task.mapped_group!r}")
        except TaskExecutionError as exc:
            _end_now(session, view, ti, TaskInstanceState.UPSTREAM_FAILED, now, str(exc))
            return 0
        if length == 0:
            reason = "its task group is mapped over nothing"
            _end_now(session, view, ti, TaskInstanceState.SKIPPED, now, reason)
            return 0
        first, created = scheduling.expand_mapped(
            session=session, placeholder=ti, length=length, now=now, state=None
        )
        view.replace(ti, first)
        for new in created:
            view.state[new.id] = None
            view.by_task[task.task_id].append(new)
        return sum(_plan_ti(session, view, task, instance, now) for instance in [first, *created])
    decision = evaluate_trigger_rule(task.trigger_rule, _upstream_counts(view, task, ti))
    if decision == "skip":
        _move(session, view, ti, TaskInstanceState.SKIPPED, start_date=now, end_date=now)
    elif decision == "upstream_failed" or (
        decision == "run" and all(s in FINISHED_TI_STATES for s in source_states)
    ):
        _move(session, view, ti, TaskInstanceState.UPSTREAM_FAILED, start_date=now, end_date=now)
    return 0


def _reconcile_structure(
    session: Session, run: DagRunModel, sdag: SerializedDag, tis: list[PlannedTi]
) -> list[PlannedTi]:
    """Tasks added to the DAG since the run started get instances; removed tasks' instances are removed."""
    present = {ti.task_id for ti in tis}
    gone = [ti for ti in tis if ti.task_id not in sdag.task_dict]
    for ti in gone:
        if ti_state_or_none(ti.state) not in (
            TaskInstanceState.REMOVED,
            TaskInstanceState.RUNNING,
            TaskInstanceState.QUEUED,
        ):
            task_instances.transition(
                session=session,
                key=TaskInstanceKey.of(ti),
                expected=ti_state_or_none(ti.state),
                target=TaskInstanceState.REMOVED,
                values={},
            )
    missing = [t for t in sdag.tasks if t.task_id not in present]
    if missing:
        task_instances.create_task_instances(session=session, run=run, sdag=sdag)
    if missing or gone:
        tis = [
            ti
            for ti in scheduling.task_instances_of_runs(session=session, runs=[run])
            if ti.task_id in sdag.task_dict
        ]
    return tis


def _timed_out(run: DagRunModel, sdag: SerializedDag, now: datetime) -> bool:
    return (
        sdag.dagrun_timeout is not None
        and run.start_date is not None
        and now - run.start_date > timedelta(seconds=sdag.dagrun_timeout)
    )


def _time_out(session: Session, view: _Run, now: datetime, terminate: Callable[[TaskTryKey], None]) -> None:
    reason = f"dagrun_timeout of {view.sdag.dagrun_timeout:g} s passed"
    for tis in view.by_task.values():
        for ti in tis:
            state = view.state[ti.id]
            if state in (TaskInstanceState.QUEUED, TaskInstanceState.RUNNING):
                terminate(TaskTryKey(TaskInstanceKey.of(ti), ti.try_number))
                _move(session, view, ti, TaskInstanceState.FAILED, end_date=now, state_reason=reason)
            elif state in (
                None,
                TaskInstanceState.SCHEDULED,
                TaskInstanceState.UP_FOR_RETRY,
                TaskInstanceState.UP_FOR_RESCHEDULE,
                TaskInstanceState.DEFERRED,
            ):
                _move(session, view, ti, TaskInstanceState.SKIPPED, end_date=now, state_reason=reason)


def _final_state(view: _Run) -> DagRunState:
    """Failed when a leaf task failed; teardowns are left out unless they have on_failure_fail_dagrun."""
    deciding = view.sdag.setup_teardown.run_state_task_ids()
    leaf_states = [s for task_id in deciding for s in view.states_of(task_id)]
    if any(s in (TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED) for s in leaf_states):
        return DagRunState.FAILED
    return DagRunState.SUCCESS


def _finish(
    session: Session,
    run: DagRunModel,
    target: DagRunState,
    now: datetime,
    stats: PlanStats,
    *,
    sdag: SerializedDag | None,
    reason: str,
) -> None:
    """End the run, and ask the DAG processor for the DAG's on_success/on_failure callback if it has one
    (in the same transaction: the request exists exactly when the run ended). ``reason`` is what the callback
    sees as context["reason"], as in Airflow: success, task_failure or timed_out."""
    latest = dag_runs.latest_task_end(session=session, dag_id=run.dag_id, run_id=run.run_id)
    end = max(now, latest) if latest is not None else now
    if dag_runs.set_dag_run_state(
        session=session,
        dag_id=run.dag_id,
        run_id=run.run_id,
        expected=DagRunState.RUNNING,
        target=target,
        now=end,
    ):
        stats.finished_runs.append((run.dag_id, run.run_id, target))
        if run.start_date is not None:
            stats.run_durations.append((run.dag_id, str(target), (end - run.start_date).total_seconds()))
        log.info("DAG run %s of %s finished: %s", run.run_id, run.dag_id, target)
        wanted = sdag is not None and (
            sdag.has_on_success_callback if target == DagRunState.SUCCESS else sdag.has_on_failure_callback
        )
        if wanted:
            dag_callbacks.request_dag_callback(
                session=session,
                dag_id=run.dag_id,
                run_id=run.run_id,
                callback=dag_callbacks.ON_SUCCESS
                if target == DagRunState.SUCCESS
                else dag_callbacks.ON_FAILURE,
                reason=reason,
                now=now,
            )
