"""Setup/teardown tasks under the real scheduler (SQLite, frozen clock, executor twin): teardowns run after
failed work, a teardown's failure does not fail the run unless on_failure_fail_dagrun, and clearing a work
task clears its setup and teardown too."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.test_tick import act_as_runner, run_state, states, trigger
from tests.unit.scheduler.twins import RecordingExecutor, store_dag
from tradewind.actions import dag_actions
from tradewind.api.auth.authentication import Principal
from tradewind.cli.main import main
from tradewind.config.settings import Settings
from tradewind.core.clock import FrozenClock
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.dag import DAG
from tradewind.sdk.operators.bash import BashOperator


def cluster_dag(dag_id: str, *, fail_dagrun: bool = False, extra_work: bool = False) -> SerializedDag:
    """create (setup) >> work [>> more] >> delete (teardown of create)."""
    with DAG(dag_id, start_date=datetime(2024, 1, 1)) as dag:
        create = BashOperator(task_id="create", bash_command="true")
        work = BashOperator(task_id="work", bash_command="true")
        delete = BashOperator(task_id="delete", bash_command="true")
        last = work
        if extra_work:
            more = BashOperator(task_id="more", bash_command="true", trigger_rule="all_done")
            work >> more
            last = more
        create >> work
        last >> delete.as_teardown(setups=create, on_failure_fail_dagrun=fail_dagrun)
    return serialize_dag(dag, fileloc=f"/dags/{dag_id}.py", relative_fileloc=f"{dag_id}.py")


def run_through(
    sessions: sessionmaker[Session],
    scheduler: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    outcomes: dict[str, TaskInstanceState],
) -> list[str]:
    """Tick until nothing is queued; each queued task ends as ``outcomes`` says (success by default)."""
    ran = []
    for _ in range(10):
        scheduler.tick(clock.now())
        queued = executor.take()
        if not queued:
            break
        for w in queued:
            ran.append(w.task_id)
            act_as_runner(sessions, w, outcomes.get(w.task_id, TaskInstanceState.SUCCESS))
    return ran


def test_teardown_runs_after_failed_work_and_the_run_fails_because_of_the_work(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, cluster_dag("st_fail"))
    run_id = trigger(sessions, "st_fail")
    ran = run_through(sessions, scheduler, executor, clock, {"work": TaskInstanceState.FAILED})
    assert ran == ["create", "work", "delete"]
    assert states(sessions, "st_fail", run_id) == {
        "create": TaskInstanceState.SUCCESS,
        "work": TaskInstanceState.FAILED,
        "delete": TaskInstanceState.SUCCESS,
    }
    assert run_state(sessions, "st_fail", run_id) == DagRunState.FAILED


def test_a_failed_teardown_does_not_fail_the_run(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, cluster_dag("st_td"))
    run_id = trigger(sessions, "st_td")
    run_through(sessions, scheduler, executor, clock, {"delete": TaskInstanceState.FAILED})
    assert states(sessions, "st_td", run_id)["delete"] == TaskInstanceState.FAILED
    assert run_state(sessions, "st_td", run_id) == DagRunState.SUCCESS


def test_on_failure_fail_dagrun_makes_a_failed_teardown_fail_the_run(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, cluster_dag("st_ff", fail_dagrun=True))
    run_id = trigger(sessions, "st_ff")
    run_through(sessions, scheduler, executor, clock, {"delete": TaskInstanceState.FAILED})
    assert run_state(sessions, "st_ff", run_id) == DagRunState.FAILED


def test_a_failed_setup_skips_work_and_teardown_as_upstream_failed(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, cluster_dag("st_setup"))
    run_id = trigger(sessions, "st_setup")
    ran = run_through(sessions, scheduler, executor, clock, {"create": TaskInstanceState.FAILED})
    assert ran == ["create"]
    assert states(sessions, "st_setup", run_id) == {
        "create": TaskInstanceState.FAILED,
        "work": TaskInstanceState.UPSTREAM_FAILED,
        "delete": TaskInstanceState.UPSTREAM_FAILED,
    }
    assert run_state(sessions, "st_setup", run_id) == DagRunState.FAILED


def test_a_skipped_setup_skips_its_teardown(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, cluster_dag("st_skip"))
    run_id = trigger(sessions, "st_skip")
    run_through(sessions, scheduler, executor, clock, {"create": TaskInstanceState.SKIPPED})
    assert states(sessions, "st_skip", run_id)["delete"] == TaskInstanceState.SKIPPED
    assert run_state(sessions, "st_skip", run_id) == DagRunState.SUCCESS


def test_a_teardown_waits_for_work_between_its_setup_and_it_and_an_indirect_setup_gates_work(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    # create >> work >> more(all_done) >> delete: "more" has create as an indirect setup.
    store_dag(sessions, cluster_dag("st_scope", extra_work=True))
    sdag = cluster_dag("st_scope", extra_work=True)
    assert sdag.setup_teardown.indirect_setups("more") == ("create",)
    run_id = trigger(sessions, "st_scope")
    ran = run_through(sessions, scheduler, executor, clock, {"work": TaskInstanceState.FAILED})
    assert ran == ["create", "work", "more", "delete"]
    # "more" ran (all_done) and is the leaf that decides the run
    assert run_state(sessions, "st_scope", run_id) == DagRunState.SUCCESS


def test_a_failed_indirect_setup_fails_a_work_task_despite_its_trigger_rule(
    sessions: sessionmaker[Session], scheduler: Scheduler, executor: RecordingExecutor, clock: FrozenClock
) -> None:
    store_dag(sessions, cluster_dag("st_ind", extra_work=True))
    run_id = trigger(sessions, "st_ind")
    run_through(sessions, scheduler, executor, clock, {"create": TaskInstanceState.FAILED})
    assert states(sessions, "st_ind", run_id)["more"] == TaskInstanceState.UPSTREAM_FAILED


@pytest.mark.parametrize(
    ("cleared", "include_downstream", "expected"),
    [
        (["work"], False, {"create", "work", "delete"}),
        (["create"], False, {"create", "delete"}),
        (["delete"], False, {"delete"}),
    ],
)
def test_clearing_follows_airflows_setup_and_teardown_rules(
    sessions: sessionmaker[Session],
    scheduler: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    cleared: list[str],
    include_downstream: bool,
    expected: set[str],
) -> None:
    sdag = cluster_dag("st_clear")
    store_dag(sessions, sdag)
    run_id = trigger(sessions, "st_clear")
    run_through(sessions, scheduler, executor, clock, {})
    assert run_state(sessions, "st_clear", run_id) == DagRunState.SUCCESS
    keys = dag_actions.clear(
        sessions, Principal(user_id=1, username="admin", role="admin", via="session"), sdag,
        run_id=run_id, task_ids=cleared, include_downstream=include_downstream,
    )  # fmt: skip
    assert {k.task_id for k in keys} == expected
    now = states(sessions, "st_clear", run_id)
    assert {t for t, s in now.items() if s is None} == expected
    assert set(run_through(sessions, scheduler, executor, clock, {})) == expected
    assert run_state(sessions, "st_clear", run_id) == DagRunState.SUCCESS


def test_cli_clear_of_a_work_task_clears_its_setup_and_teardown(
    settings: Settings,
    sessions: sessionmaker[Session],
    scheduler: Scheduler,
    executor: RecordingExecutor,
    clock: FrozenClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_dag(sessions, cluster_dag("st_cli"))
    run_id = trigger(sessions, "st_cli")
    run_through(sessions, scheduler, executor, clock, {"work": TaskInstanceState.FAILED})
    assert main(["tasks", "clear", "st_cli", "-t", "^work$", "--only-failed", "--run-id", run_id, "-y"]) == 0
    # only failed: the succeeded setup and teardown stay as they were
    assert states(sessions, "st_cli", run_id) == {
        "create": TaskInstanceState.SUCCESS,
        "work": None,
        "delete": TaskInstanceState.SUCCESS,
    }
    assert main(["tasks", "clear", "st_cli", "-t", "^work$", "--run-id", run_id, "-y"]) == 0
    assert "delete  (success)" in capsys.readouterr().out
    assert set(states(sessions, "st_cli", run_id).values()) == {None}
