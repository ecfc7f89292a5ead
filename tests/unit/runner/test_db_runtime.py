"""The database-backed TaskRuntime: XCom, variables (secret ones masked) and branch skips."""

from __future__ import annotations

from tests.integration.runner.harness import DAG_ID, RUN_ID, RunnerEnv
from tradewind.core.states import TaskInstanceState
from tradewind.execution.db_runtime import DbRuntime
from tradewind.runner.masked_runtime import masking_runtime
from tradewind.runner.secrets_masking import SecretsMasker
from tradewind.sdk.runtime import XCOM_ABSENT
from tradewind.store import task_instances, variables
from tradewind.store.engine import transaction


def test_xcom_push_and_pull(runner_env: RunnerEnv) -> None:
    runtime = DbRuntime(runner_env.factory)
    where = {"dag_id": DAG_ID, "run_id": RUN_ID, "task_id": "make_list"}
    assert runtime.xcom_pull(**where, key="return_value", map_index=-1) is XCOM_ABSENT
    runtime.xcom_push(**where, map_index=-1, key="return_value", value=[1, 2])
    runtime.xcom_push(**where, map_index=-1, key="return_value", value=[1, 2, 3])
    assert runtime.xcom_pull(**where, key="return_value", map_index=-1) == [1, 2, 3]
    assert runtime.xcom_pull(**where, key="return_value", map_index=None) == [1, 2, 3]


def test_mapped_xcoms_pull_as_a_list_in_index_order(runner_env: RunnerEnv) -> None:
    runtime = DbRuntime(runner_env.factory)
    where = {"dag_id": DAG_ID, "run_id": RUN_ID, "task_id": "double"}
    for index, value in ((1, 4), (0, 2), (2, 6)):
        runtime.xcom_push(**where, map_index=index, key="return_value", value=value)
    assert runtime.xcom_pull(**where, key="return_value", map_index=None) == [2, 4, 6]


def test_sensitive_variables_are_given_to_the_masker(runner_env: RunnerEnv) -> None:
    with transaction(runner_env.factory) as session:
        variables.set_variable(session=session, key="warehouse_password", value="pa55-word-xyz")
        variables.set_variable(session=session, key="bucket", value="my-bucket")
    masker = SecretsMasker()
    runtime = masking_runtime(DbRuntime(runner_env.factory), masker)
    assert runtime.get_variable("warehouse_password") == "pa55-word-xyz"
    assert runtime.get_variable("bucket") == "my-bucket"
    assert runtime.get_variable("missing") is None
    assert masker.redact_text("pa55-word-xyz in my-bucket") == "*** in my-bucket"
    runtime.set_variable("bucket", "other", "where files go")
    assert runtime.get_variable("bucket") == "other"
    runtime.delete_variable("bucket")
    assert runtime.get_variable("bucket") is None


def test_skip_tasks_moves_only_tasks_that_have_not_started(runner_env: RunnerEnv) -> None:
    runner_env.queue("branch_a")  # already handed to an executor: must not be skipped
    runner_env.queue("double", map_index=0)
    with transaction(runner_env.factory) as session:
        task_instances.transition(
            session=session, key=runner_env.key("branch_b"), expected=None, target=TaskInstanceState.SCHEDULED
        )
    DbRuntime(runner_env.factory).skip_tasks(
        dag_id=DAG_ID, run_id=RUN_ID, task_ids=["branch_a", "branch_b", "double", "python_skip"]
    )
    assert runner_env.ti("branch_a").state == "queued"
    assert runner_env.ti("branch_b").state == "skipped"
    assert runner_env.ti("python_skip").state == "skipped"
    assert runner_env.ti("double", -1).state == "skipped"
    assert runner_env.ti("double", 0).state == "queued"
    assert runner_env.ti("waiter").state is None
