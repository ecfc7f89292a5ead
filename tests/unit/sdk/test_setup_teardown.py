"""Setup and teardown tasks as authored: marking, the teardown rule, `with` blocks, groups and validation."""

from __future__ import annotations

from datetime import datetime

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import setup, task, teardown
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.branch import ShortCircuitOperator, short_circuit_skips
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.taskgroup import TaskGroup

START = datetime(2024, 1, 1)


def edges(dag: DAG) -> dict[str, list[str]]:
    return {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}


def test_as_teardown_marks_the_setups_and_sets_the_teardown_rule() -> None:
    with DAG("st", start_date=START) as dag:
        create = EmptyOperator(task_id="create")
        work = EmptyOperator(task_id="work")
        delete = EmptyOperator(task_id="delete")
        create >> work >> delete.as_teardown(setups=create)
    assert create.is_setup and not create.is_teardown
    assert delete.is_teardown and delete.trigger_rule == "all_done_setup_success"
    assert not delete.on_failure_fail_dagrun
    assert edges(dag) == {"create": ["delete", "work"], "work": ["delete"], "delete": []}


def test_as_setup_returns_the_task_and_roles_exclude_each_other() -> None:
    with DAG("st", start_date=START):
        create = EmptyOperator(task_id="create").as_setup()
        other = EmptyOperator(task_id="other").as_teardown()
    assert create.is_setup
    with pytest.raises(DagDefinitionError, match="'create' is a setup"):
        create.as_teardown()
    with pytest.raises(DagDefinitionError, match="'other' is a teardown"):
        other.as_setup()


def test_on_failure_fail_dagrun_only_for_teardowns() -> None:
    with DAG("st", start_date=START):
        work = EmptyOperator(task_id="work")
        delete = EmptyOperator(task_id="delete").as_teardown(on_failure_fail_dagrun=True)
    assert delete.on_failure_fail_dagrun
    with pytest.raises(DagDefinitionError, match="only to teardown"):
        work.on_failure_fail_dagrun = True


def test_setup_and_teardown_decorators_with_a_with_block_wrap_the_work() -> None:
    with DAG("st", start_date=START) as dag:

        @setup
        def create_cluster() -> str:
            return "c1"

        @teardown(on_failure_fail_dagrun=True)
        def delete_cluster(name: str) -> None: ...

        @task
        def query() -> None: ...

        created = create_cluster()
        with created >> delete_cluster(created):
            q = query()
            report = EmptyOperator(task_id="report")
            q >> report
    tasks = dag.task_dict
    assert tasks["create_cluster"].is_setup
    assert tasks["delete_cluster"].is_teardown and tasks["delete_cluster"].on_failure_fail_dagrun
    assert tasks["delete_cluster"].trigger_rule == "all_done_setup_success"
    assert edges(dag) == {
        "create_cluster": ["delete_cluster", "query"],
        "delete_cluster": [],
        "query": ["report"],
        "report": ["delete_cluster"],
    }


def test_a_teardown_decorator_refuses_a_trigger_rule() -> None:
    with DAG("st", start_date=START):

        @teardown
        @task(trigger_rule="all_success")
        def cleanup() -> None: ...

        with pytest.raises(DagDefinitionError, match="teardown task's trigger_rule"):
            cleanup()


def test_override_keeps_the_role() -> None:
    with DAG("st", start_date=START) as dag:

        @setup
        def make() -> None: ...

        make.override(task_id="make_two")()
    assert dag.task_dict["make_two"].is_setup


def test_nested_blocks_chain_setups_and_teardowns() -> None:
    with DAG("st", start_date=START) as dag:
        outer_setup = EmptyOperator(task_id="outer_setup").as_setup()
        outer_teardown = EmptyOperator(task_id="outer_teardown").as_teardown(setups=outer_setup)
        with outer_teardown:
            inner_setup = EmptyOperator(task_id="inner_setup").as_setup()
            EmptyOperator(task_id="inner_teardown").as_teardown(setups=inner_setup)
            with inner_setup:
                EmptyOperator(task_id="work")
    assert edges(dag) == {
        "outer_setup": ["inner_setup", "outer_teardown"],
        "outer_teardown": [],
        "inner_setup": ["inner_teardown", "work"],
        "inner_teardown": ["outer_teardown"],
        "work": ["inner_teardown"],
    }


def test_only_setup_or_teardown_tasks_open_a_with_block() -> None:
    with DAG("st", start_date=START):
        plain = EmptyOperator(task_id="plain")
        with pytest.raises(DagDefinitionError, match="only setup or teardown tasks"), plain:
            pass


def test_a_group_ending_in_a_teardown_connects_from_its_work() -> None:
    with DAG("st", start_date=START) as dag:
        with TaskGroup("g") as group:
            create = EmptyOperator(task_id="create")
            work = EmptyOperator(task_id="work")
            delete = EmptyOperator(task_id="delete")
            create >> work >> delete.as_teardown(setups=create)
        group >> EmptyOperator(task_id="after")
    assert [t.task_id for t in group.leaves] == ["g.work"]
    assert dag.task_dict["after"].upstream_task_ids == {"g.work"}


def test_validate_requires_all_success_right_after_a_setup() -> None:
    with DAG("st", start_date=START) as dag:
        create = EmptyOperator(task_id="create").as_setup()
        create >> EmptyOperator(task_id="work", trigger_rule="all_done")
    with pytest.raises(
        DagDefinitionError,
        match=r"'work' \(EmptyOperator at .*test_setup_teardown.py:\d+\) directly downstream of setup task 'create'",
    ):
        dag.validate()


def test_short_circuit_never_skips_a_teardown() -> None:
    with DAG("st", start_date=START):
        create = EmptyOperator(task_id="create").as_setup()
        check = ShortCircuitOperator(task_id="check", python_callable=lambda: False)
        work = EmptyOperator(task_id="work")
        delete = EmptyOperator(task_id="delete").as_teardown(setups=create)
        create >> check >> work >> delete
    assert short_circuit_skips(check, True) == ["work"]
    assert short_circuit_skips(check, False) == ["work"]
