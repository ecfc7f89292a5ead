"""A cron schedule in a time zone: every weekday at 06:30 Amsterdam time, without catching up on the past.

The start date carries its time zone; runs are stored in UTC, and the cron expression is read in the start
date's zone, so 06:30 stays 06:30 local time across daylight saving changes.
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
        bash_command='echo "covering {{ data_interval_start }} to {{ data_interval_end }}"',
    )
