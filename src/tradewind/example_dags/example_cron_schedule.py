"""A cron schedule in a time zone: every weekday at 06:30 Amsterdam time, without catching up on the past.

The start date carries its time zone; runs are stored in UTC, and the cron expression is read in the start
date's zone, so 06:30 stays 06:30 local time across daylight saving changes. As in Airflow 3, each run starts
at its tick and its logical date is the tick (its data interval is empty); with
``[scheduler] create_cron_data_intervals = true`` a run instead covers the period between two ticks, as in
Airflow 2.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from tradewind import DAG, BashOperator

with DAG(
    dag_id="example_cron_schedule",
    description="Weekdays at 06:30 Europe/Amsterdam, catchup off",
    schedule="30 6 * * 1-5",
    start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")),
    catchup=False,
    tags=["example"],
):
    BashOperator(
        task_id="report_interval",
        bash_command='echo "run for {{ logical_date }}, covering {{ data_interval_start }} to {{ data_interval_end }}"',
    )
