"""What a process sets up before it imports DAG files, plugins or task code: one call, the same everywhere
(the DAG processor before it forks parsing children, each task try, ``dags test``, DAG callbacks)."""

from __future__ import annotations

from tradewind.compat.airflow.activation import enable_airflow_names
from tradewind.config.authoring import apply_authoring_settings
from tradewind.config.settings import Settings
from tradewind.plugins.registry import ensure_plugins_loaded


def prepare_for_user_code(settings: Settings) -> None:
    """Serve Airflow's import names (unless switched off), make ``schedule=`` mean what ``[scheduler]`` says,
    and load the plugins folder once."""
    enable_airflow_names(settings)
    apply_authoring_settings(settings)
    ensure_plugins_loaded(settings)
