"""Settings that change what DAG code means, handed to the authoring SDK of a process that imports DAG files."""

from __future__ import annotations

from tradewind.config.settings import Settings
from tradewind.sdk.schedules import ScheduleDefaults, configure_schedule_defaults


def apply_authoring_settings(settings: Settings) -> None:
    """Make ``schedule=`` strings and deltas in DAG files read as ``[scheduler]`` says (Airflow 3 or 2)."""
    configure_schedule_defaults(
        ScheduleDefaults(
            cron_data_intervals=settings.scheduler.create_cron_data_intervals,
            delta_data_intervals=settings.scheduler.create_delta_data_intervals,
        )
    )
