"""Templating: Jinja in template fields, rendered with the run's context just before the task runs."""

from datetime import datetime

from tradewind import DAG, BashOperator

COMMAND = """
echo "logical date:       {{ ds }} ({{ ds_nodash }})"
echo "timestamp:          {{ ts }}"
echo "data interval:      {{ data_interval_start }} to {{ data_interval_end }}"
echo "a week later:       {{ macros.ds_add(ds, 7) }}"
echo "run:                {{ run_id }} of {{ dag.dag_id }}, task {{ task.task_id }}"
echo "greeting parameter: {{ params.greeting }}"
{% for fruit in params.fruits %}echo "fruit: {{ fruit }}"
{% endfor %}
"""

with DAG(
    dag_id="example_templating",
    description="Render ds, params, macros and more into a Bash command",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    params={"greeting": "hello", "fruits": ["apple", "pear"]},
):
    BashOperator(task_id="render", bash_command=COMMAND)
    BashOperator(
        task_id="templated_env",
        bash_command='test "$LOGICAL_DATE" = "{{ ds }}" && echo "env rendered: $LOGICAL_DATE"',
        env={"LOGICAL_DATE": "{{ ds }}"},
    )
