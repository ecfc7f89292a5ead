"""Trigger rules: when a task runs given the states of its upstream tasks.

`fail_on_purpose` fails and `skip_on_purpose` skips (exit code 99), on purpose; every task that reacts to
them ends in success or skipped, so the run itself succeeds: a run fails only when a final task fails.
"""

from datetime import datetime

from tradewind import DAG, BashOperator, EmptyOperator

with DAG(
    dag_id="example_trigger_rules",
    description="Every trigger rule, reacting to a success, a failure and a skip",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
):
    succeed = BashOperator(task_id="succeed", bash_command="true")
    fail = BashOperator(task_id="fail_on_purpose", bash_command="exit 1", retries=0)
    skip = BashOperator(task_id="skip_on_purpose", bash_command="exit 99")

    [succeed, fail] >> EmptyOperator(task_id="one_failed", trigger_rule="one_failed")
    [succeed, fail] >> EmptyOperator(task_id="one_success", trigger_rule="one_success")
    [succeed, fail] >> EmptyOperator(task_id="one_done", trigger_rule="one_done")
    fail >> EmptyOperator(task_id="all_failed", trigger_rule="all_failed")
    skip >> EmptyOperator(task_id="all_skipped", trigger_rule="all_skipped")
    [succeed, skip] >> EmptyOperator(task_id="none_failed", trigger_rule="none_failed")
    [succeed, skip] >> EmptyOperator(
        task_id="none_failed_min_one_success", trigger_rule="none_failed_min_one_success"
    )
    # Skipped because an upstream task was skipped.
    [succeed, skip] >> EmptyOperator(task_id="none_skipped", trigger_rule="none_skipped")
    # Marked upstream_failed by the failure; `always` below runs regardless.
    all_success = EmptyOperator(task_id="all_success", trigger_rule="all_success")
    [succeed, fail] >> all_success
    all_success >> EmptyOperator(task_id="always", trigger_rule="always")
    [succeed, fail, skip] >> EmptyOperator(task_id="all_done", trigger_rule="all_done")
