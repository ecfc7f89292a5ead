"""Airflow's import paths of triggers and deferral exceptions are Tradewind's classes."""

from __future__ import annotations

import importlib

import pytest

from tradewind.config.settings import Settings
from tradewind.sdk.errors import TaskDeferralError, TaskDeferralTimeout, TaskDeferred
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent
from tradewind.sdk.triggers.file import FileDeleteTrigger, FileTrigger
from tradewind.sdk.triggers.temporal import DateTimeTrigger, TimeDeltaTrigger


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        ("airflow.triggers.base", "BaseTrigger", BaseTrigger),
        ("airflow.triggers.base", "TriggerEvent", TriggerEvent),
        ("airflow.triggers.temporal", "DateTimeTrigger", DateTimeTrigger),
        ("airflow.triggers.temporal", "TimeDeltaTrigger", TimeDeltaTrigger),
        ("airflow.triggers.file", "FileTrigger", FileTrigger),
        ("airflow.providers.standard.triggers.temporal", "TimeDeltaTrigger", TimeDeltaTrigger),
        ("airflow.providers.standard.triggers.temporal", "DateTimeTrigger", DateTimeTrigger),
        ("airflow.providers.standard.triggers.file", "FileTrigger", FileTrigger),
        ("airflow.providers.standard.triggers.file", "FileDeleteTrigger", FileDeleteTrigger),
        ("airflow.exceptions", "TaskDeferred", TaskDeferred),
        ("airflow.exceptions", "TaskDeferralError", TaskDeferralError),
        ("airflow.exceptions", "TaskDeferralTimeout", TaskDeferralTimeout),
        ("airflow.sdk.exceptions", "TaskDeferred", TaskDeferred),
    ],
)
def test_names(airflow_names: Settings, module: str, name: str, target: object) -> None:
    assert getattr(importlib.import_module(module), name) is target
