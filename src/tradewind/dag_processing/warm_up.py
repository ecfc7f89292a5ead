"""Ready the parent before it forks parsing children: import the authoring API and run its first-use paths.

Whatever the parent has not done yet, every child does again: the SDK loads some modules on first use
(croniter for cron schedules, for instance, which even runs a subprocess when imported), so each child would
pay tens of milliseconds for them. Building and serializing one small DAG here, once, pays that only once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache

import tradewind
from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.serialization import serialize_dag

log = logging.getLogger(__name__)


@cache
def warm_up() -> None:
    """Run once per process; a failure only costs speed, so it is logged and ignored."""
    for name in tradewind.__all__:
        getattr(tradewind, name)
    try:
        for dag in _sample_dags():
            dag.validate()
            serialized = serialize_dag(dag, fileloc="<warm-up>", relative_fileloc="<warm-up>")
            SerializedDag.from_json(serialized.to_json()).content_hash()
    except Exception:
        log.debug("warming up the DAG parser failed; children will load what they need", exc_info=True)


def _sample_dags() -> list[tradewind.DAG]:
    """DAGs using the common authoring features: schedules, operators, TaskFlow, mapping, groups, params."""
    start = datetime(2024, 1, 1)
    with tradewind.DAG(
        "tradewind_warm_up_cron",
        schedule="0 6 * * 1-5",
        start_date=start,
        params={"n": tradewind.Param(1, type="integer", minimum=0)},
        default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
    ) as cron_dag:
        bash = tradewind.BashOperator(task_id="bash", bash_command="echo {{ ds }}", env={"A": "{{ run_id }}"})
        python = tradewind.PythonOperator(task_id="python", python_callable=print, op_args=[1])
        with tradewind.TaskGroup("group"):
            empty = tradewind.EmptyOperator(task_id="empty", trigger_rule="all_done")
        bash >> python >> empty

    with tradewind.DAG("tradewind_warm_up_delta", schedule=timedelta(hours=1), start_date=start) as delta_dag:

        @tradewind.task
        def numbers() -> list[int]:
            return [1, 2]

        @tradewind.task
        def double(value: int) -> int:
            return value * 2

        double.expand(value=numbers())

    with tradewind.DAG("tradewind_warm_up_daily", schedule="@daily", start_date=start) as preset_dag:
        tradewind.EmptyOperator(task_id="only")
    return [cron_dag, delta_dag, preset_dag]
