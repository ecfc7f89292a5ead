"""The scheduler's iteration with a frozen clock, a real database and an executor twin."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import START, RecordingExecutor, make_dag, store_dag
from tradewind.core.clock import FrozenClock, as_utc
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.execution.db_runtime import DbRuntime
from tradewind.execution.models import ClaimedTry, Outcome, TryEnded, TryReport
from tradewind.execution.try_state import TryState
from tradewind.scheduler.tick import Scheduler
from tradewind.store import dag_runs, pools, task_instances
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run


def trigger(sessions: sessionmaker[Session], dag_id: str, now: object = START, **kw: object) -> str:
    with transaction(sessions) as session:
        return trigger_run(session=session, dag_id=dag_id, now=now, **kw).run_id  # type: ignore[arg-type]


def act_as_runner(
    sessions: sessionmaker[Session],
    w: ExecuteTask,
    outcome: TaskInstanceState,
    now: datetime = START,
    *,
    returns: Any = None,
) -> None:
    """What the runner does, through the code the execution API serves it: claim the queued try (``TryState``),
    push what the task returned (``returns``, unless None) while it runs (``DbRuntime``), then report how it
    went (``TryState.finish``, which ``try_ending`` ends); the try must end in ``outcome``."""
    attempt = TryState(sessions, w.ti_key, w.try_number)
    claimed = attempt.claim(now=now, hostname="runner-twin", pid=1)
    assert isinstance(claimed, ClaimedTry), claimed
    if returns is not None:
        DbRuntime(sessions).xcom_push(dag_id=w.dag_id, run_id=w.run_id, task_id=w.task_id,
                                      map_index=w.map_index, key="return_value", value=returns)  # fmt: skip
    ended = attempt.finish(TryReport(outcome=_OUTCOMES[outcome]), now=now)
    assert isinstance(ended, TryEnded), ended
    assert ended.state == outcome, ended


#: The runner's report for each state a test wants a try to end in.
_OUTCOMES: dict[TaskInstanceState, Outcome] = {
    TaskInstanceState.SUCCESS: "success",
    TaskInstanceState.SKIPPED: "skipped",
    TaskInstanceState.FAILED: "failed",
}


def states(sessions: sessionmaker[Session], dag_id: str, run_id: str) -> dict[str, str | None]:
    with sessions() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=run_id)
        return {(t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]"): t.state for t in tis}


def run_state(sessions: sessionmaker[Session], dag_id: str, run_id: str) -> str:
    with sessions() as session:
        return dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id).state


def test_chain_runs_in_order_and_run_succeeds(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("chain", {"a": ["b"], "b": ["c"]}))
    run_id = trigger(sessions, "chain")
    order = []
    for _ in range(3):
        scheduler.tick(clock.now())
        [w] = executor.take()
        order.append(w.task_id)
        assert w.try_number == 1
        act_as_runner(sessions, w, TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    assert order == ["a", "b", "c"]
    assert run_state(sessions, "chain", run_id) == DagRunState.SUCCESS


def test_a_run_ends_no_earlier_than_its_last_try(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    """A tick's clock reads its start; a runner may record its try's end while that tick plans the run. The
    run's end (its trace span, its duration) must still not come before its tries' ends."""
    store_dag(sessions, make_dag("late", {"a": []}))
    run_id = trigger(sessions, "late")
    scheduler.tick(clock.now())
    [w] = executor.take()
    ended = clock.now() + timedelta(seconds=5)
    act_as_runner(sessions, w, TaskInstanceState.SUCCESS, now=ended)
    scheduler.tick(clock.now())
    with sessions() as session:
        run = dag_runs.get_dag_run(session=session, dag_id="late", run_id=run_id)
        assert run.state == DagRunState.SUCCESS
        assert run.end_date is not None and as_utc(run.end_date) == ended


def test_failure_propagates_upstream_failed_and_fails_the_run(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("fail", {"a": ["b", "cleanup"], "b": []},
                                 tasks={"cleanup": {"trigger_rule": "all_done"}}))
    run_id = trigger(sessions, "fail")
    scheduler.tick(clock.now())
    [w] = executor.take()
    act_as_runner(sessions, w, TaskInstanceState.FAILED)
    scheduler.tick(clock.now())
    queued = executor.take()
    assert [q.task_id for q in queued] == ["cleanup"]
    assert states(sessions, "fail", run_id)["b"] == TaskInstanceState.UPSTREAM_FAILED
    act_as_runner(sessions, queued[0], TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    assert run_state(sessions, "fail", run_id) == DagRunState.FAILED


def test_dead_runner_is_retried_after_its_delay_then_failed(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("retry", {"a": []}, tasks={"a": {"retries": 1, "retry_delay": 60.0}}))
    run_id = trigger(sessions, "retry")
    scheduler.tick(clock.now())
    [w] = executor.take()
    executor.finish(w.try_key, TryProcessEvent.FAILED, reason="task process killed by SIGKILL")
    scheduler.tick(clock.now())
    assert states(sessions, "retry", run_id)["a"] == TaskInstanceState.UP_FOR_RETRY
    assert executor.take() == []
    clock.advance(timedelta(seconds=61))
    scheduler.tick(clock.now())
    [w2] = executor.take()
    assert w2.try_number == 2
    executor.finish(w2.try_key, TryProcessEvent.FAILED)
    scheduler.tick(clock.now())
    assert states(sessions, "retry", run_id)["a"] == TaskInstanceState.FAILED
    assert run_state(sessions, "retry", run_id) == DagRunState.FAILED
    with sessions() as session:
        ti = task_instances.get_task_instance(session=session, key=TaskInstanceKey("retry", run_id, "a"))
        assert ti.state_reason == "the task's process ended without recording a state"


def test_parallelism_pools_and_max_active_tasks_limit_dispatch(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    with transaction(sessions) as session:
        pools.set_pool(session=session, name="tiny", slots=1)
    fan = {f"t{i}": [] for i in range(6)}
    store_dag(sessions, make_dag("fan", fan, max_active_tasks=4,
                                 tasks={"t0": {"pool": "tiny"}, "t1": {"pool": "tiny"}}))
    trigger(sessions, "fan")
    executor.parallelism = 3
    scheduler.tick(clock.now())
    first = executor.take()
    assert len(first) == 3
    assert sum(1 for w in first if w.pool == "tiny") <= 1
    executor.parallelism = 10
    scheduler.tick(clock.now())
    second = executor.take()
    assert len(first) + len(second) == 4  # max_active_tasks
    assert sum(1 for w in first + second if w.pool == "tiny") == 1


def test_priority_weight_orders_dispatch(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("prio", {"low": [], "high": []},
                                 tasks={"low": {"priority_weight": 1}, "high": {"priority_weight": 10}}))
    trigger(sessions, "prio")
    executor.parallelism = 1
    scheduler.tick(clock.now())
    assert [w.task_id for w in executor.take()] == ["high"]


def test_empty_operator_succeeds_without_a_process(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("empty", {"start": ["work"]}, tasks={"start": {"is_empty": True}}))
    run_id = trigger(sessions, "empty")
    scheduler.tick(clock.now())
    assert [w.task_id for w in executor.take()] == ["work"]
    assert states(sessions, "empty", run_id)["start"] == TaskInstanceState.SUCCESS


def test_branch_skip_propagates_through_trigger_rules(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("br", {"a": ["b"], "b": ["c"], "c": ["join"], "x": ["join"]},
                                 tasks={"join": {"trigger_rule": "none_failed_min_one_success"}}))
    run_id = trigger(sessions, "br")
    scheduler.tick(clock.now())
    queued = {w.task_id: w for w in executor.take()}
    assert set(queued) == {"a", "x"}
    act_as_runner(sessions, queued["a"], TaskInstanceState.SKIPPED)
    act_as_runner(sessions, queued["x"], TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    s = states(sessions, "br", run_id)
    assert (s["b"], s["c"]) == (TaskInstanceState.SKIPPED, TaskInstanceState.SKIPPED)
    [join] = executor.take()
    assert join.task_id == "join"


def test_mapped_task_expands_over_upstream_xcom(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    sdag = make_dag("map", {"make": ["each"]}, tasks={
        "each": {"expand": {"x": {"kind": "xcom", "task_id": "make"}}},
    })
    store_dag(sessions, sdag)
    run_id = trigger(sessions, "map")
    scheduler.tick(clock.now())
    [make] = executor.take()
    act_as_runner(sessions, make, TaskInstanceState.SUCCESS, returns=[10, 20, 30])
    scheduler.tick(clock.now())
    mapped = executor.take()
    assert sorted(w.map_index for w in mapped) == [0, 1, 2]
    for w in mapped:
        act_as_runner(sessions, w, TaskInstanceState.SUCCESS)
    scheduler.tick(clock.now())
    assert run_state(sessions, "map", run_id) == DagRunState.SUCCESS


def test_mapping_over_nothing_skips(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("map0", {"each": []}, tasks={"each": {"expand": {"x": {"kind": "literal", "value": []}}}}))
    run_id = trigger(sessions, "map0")
    scheduler.tick(clock.now())
    assert executor.take() == []
    assert states(sessions, "map0", run_id)["each"] == TaskInstanceState.SKIPPED


def test_cron_schedule_creates_runs_with_catchup_and_respects_max_active_runs(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("daily", {"a": []}, timetable={"type": "cron", "expression": "@daily"},
                                 start_date=START - timedelta(days=3), catchup=True, max_active_runs=2))
    scheduler.tick(clock.now())
    scheduler.tick(clock.now())
    with sessions() as session:
        runs, total = dag_runs.list_dag_runs(session=session, dag_id="daily")
        running = [r for r in runs if r.state == DagRunState.RUNNING]
    assert len(running) == 2
    assert sorted(r.logical_date for r in runs)[0] == START - timedelta(days=3)
    assert all(r.run_type == "scheduled" for r in runs)
    assert total <= 3


def test_paused_dag_creates_no_runs(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("paused", {"a": []}, timetable={"type": "cron", "expression": "@hourly"},
                                 start_date=START - timedelta(days=1)), paused=True)
    scheduler.tick(clock.now())
    with sessions() as session:
        _, total = dag_runs.list_dag_runs(session=session, dag_id="paused")
    assert total == 0


def test_depends_on_past_waits_for_previous_run(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("dop", {"a": []}, tasks={"a": {"depends_on_past": True}}))
    first = trigger(sessions, "dop", now=START)
    second = trigger(sessions, "dop", now=START + timedelta(hours=1))
    scheduler.tick(clock.now())
    queued = executor.take()
    assert [w.run_id for w in queued] == [first]
    act_as_runner(sessions, queued[0], TaskInstanceState.FAILED)
    scheduler.tick(clock.now())
    assert executor.take() == []
    assert states(sessions, "dop", second)["a"] is None


def test_dagrun_timeout_fails_run_and_terminates_tries(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("slow", {"a": ["b"]}, dagrun_timeout=30.0))
    run_id = trigger(sessions, "slow")
    scheduler.tick(clock.now())
    [w] = executor.take()
    clock.advance(timedelta(seconds=31))
    scheduler.tick(clock.now())
    assert executor.terminated == [w.try_key]
    assert run_state(sessions, "slow", run_id) == DagRunState.FAILED
    assert states(sessions, "slow", run_id) == {"a": TaskInstanceState.FAILED, "b": TaskInstanceState.SKIPPED}


def test_zombie_try_is_retried(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("z", {"a": []}, tasks={"a": {"retries": 1, "retry_delay": 0.0}}))
    run_id = trigger(sessions, "z")
    scheduler.tick(clock.now())
    [w] = executor.take()
    with transaction(sessions) as session:
        task_instances.transition(
            session=session,
            key=w.ti_key,
            expected=TaskInstanceState.QUEUED,
            target=TaskInstanceState.RUNNING,
            try_number=1,
            values={"start_date": clock.now(), "last_heartbeat_at": clock.now()},
        )
    scheduler.housekeeping(clock.now())  # the scheduler sees the beat; silence counts from here (ADR 0015)
    clock.advance(timedelta(seconds=scheduler.settings.scheduler.zombie_threshold + 1))
    scheduler.housekeeping(clock.now())
    assert states(sessions, "z", run_id)["a"] == TaskInstanceState.UP_FOR_RETRY
    scheduler.tick(clock.now())
    [w2] = executor.take()
    assert w2.try_number == 2


def test_queued_try_unknown_to_executor_is_rescheduled_without_using_a_try(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("lost", {"a": []}))
    run_id = trigger(sessions, "lost")
    scheduler.tick(clock.now())
    [w] = executor.take()
    executor.carrying.clear()  # the executor lost it (a worker vanished before starting it)
    clock.advance(timedelta(seconds=scheduler.settings.scheduler.task_queued_timeout + 1))
    scheduler.housekeeping(clock.now())
    assert states(sessions, "lost", run_id)["a"] == TaskInstanceState.SCHEDULED
    scheduler.tick(clock.now())
    [again] = executor.take()
    assert again.try_number == w.try_number == 1


def test_trigger_validates_conf_against_params(sessions: sessionmaker[Session]) -> None:
    import pytest

    from tradewind.core.serialized_dag import SerializedParam
    from tradewind.sdk.errors import ParamValidationError

    sdag = make_dag("p", {"a": []}, params={"n": SerializedParam(default=1, schema={"type": "integer"})})
    store_dag(sessions, sdag)
    with pytest.raises(ParamValidationError, match="n"):
        trigger(sessions, "p", conf={"n": "not a number"})
    with sessions() as session:
        assert dag_runs.list_dag_runs(session=session, dag_id="p")[1] == 0


def test_end_of_a_refused_duplicate_runner_does_not_fail_the_running_try(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("dup", {"a": []}))
    run_id = trigger(sessions, "dup")
    scheduler.tick(clock.now())
    [w] = executor.take()
    with transaction(sessions) as session:
        task_instances.transition(
            session=session,
            key=w.ti_key,
            expected=TaskInstanceState.QUEUED,
            target=TaskInstanceState.RUNNING,
            try_number=1,
            values={
                "start_date": clock.now(),
                "last_heartbeat_at": clock.now(),
                "pid": 4242,
                "hostname": "worker-1",
            },
        )
    # A redelivered copy ran elsewhere, was refused the try, and exited 0.
    executor._emit(TaskEvent(w.try_key, TryProcessEvent.EXITED_CLEANLY, external_id="9999"))
    scheduler.tick(clock.now())
    assert states(sessions, "dup", run_id)["a"] == TaskInstanceState.RUNNING
    # The process that holds the try dies: that settles it at once.
    killed = "task process killed by SIGKILL"
    executor._emit(TaskEvent(w.try_key, TryProcessEvent.FAILED, reason=killed, external_id="4242"))
    scheduler.tick(clock.now())
    assert states(sessions, "dup", run_id)["a"] == TaskInstanceState.FAILED


def test_the_end_of_the_pod_that_holds_the_try_settles_it_at_once_with_its_reason(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, make_dag("pod", {"a": []}))
    run_id = trigger(sessions, "pod")
    scheduler.tick(clock.now())
    [w] = executor.take()
    with transaction(sessions) as session:  # a runner in a pod claims as pid 1, host name = the pod's name
        task_instances.transition(session=session, key=w.ti_key, expected=TaskInstanceState.QUEUED,
                                  target=TaskInstanceState.RUNNING, try_number=1,
                                  values={"start_date": clock.now(), "last_heartbeat_at": clock.now(),
                                          "pid": 1, "hostname": "pod-a-1234abcd"})  # fmt: skip
    # Another pod of the try (its runner was refused the try) ends: not the one that holds it.
    executor._emit(TaskEvent(w.try_key, TryProcessEvent.FAILED, reason="exit code 1",
                             external_id="data/pod-a-99999999"))  # fmt: skip
    scheduler.tick(clock.now())
    assert states(sessions, "pod", run_id)["a"] == TaskInstanceState.RUNNING
    # The pod that holds it is OOM-killed seconds after its runner's last heartbeat: that settles it at
    # once, with the pod's reason, not the zombie check a minute later.
    oom = "OOMKilled (exit code 137)"
    executor._emit(TaskEvent(w.try_key, TryProcessEvent.FAILED, reason=oom, external_id="data/pod-a-1234abcd"))
    scheduler.tick(clock.now() + timedelta(seconds=2))
    with sessions() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id="pod", run_id=run_id)
    assert [(ti.state, ti.state_reason) for ti in tis] == [(TaskInstanceState.FAILED, oom)]


def test_paused_dag_shows_its_next_run_and_an_unpaused_one_skips_missed_intervals_without_catchup(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    from tradewind.store import dags

    store_dag(sessions, make_dag("hourly", {"a": []}, timetable={"type": "cron", "expression": "@hourly"},
                                 start_date=START - timedelta(days=1), catchup=False), paused=True)
    scheduler.tick(clock.now())
    with sessions() as session:
        assert dags.get_dag(session=session, dag_id="hourly").next_dagrun == START - timedelta(hours=1)
    clock.advance(timedelta(days=2))
    with transaction(sessions) as session:
        dags.set_paused(session=session, dag_id="hourly", is_paused=False)
    scheduler.tick(clock.now())
    with sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id="hourly")
    assert [r.logical_date for r in runs] == [clock.now() - timedelta(hours=1)]
