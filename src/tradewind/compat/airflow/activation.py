"""The switch: serve Airflow's import names in this process, unless switched off or the real Airflow is here.

Called where user code runs (the DAG processor before it forks parsing children, and each task try, DAG
callback and ``tasks test``), so every process that imports DAG files sees the same names.
"""

from __future__ import annotations

import enum
import sys
from importlib.machinery import ModuleSpec

from tradewind.compat.airflow.finder import ROOT, AirflowNameFinder
from tradewind.config.settings import Settings
from tradewind.sdk.connection import honour_airflow_env_names


class AirflowNames(enum.Enum):
    SERVED = "served"
    SWITCHED_OFF = "switched off"
    REAL_AIRFLOW = "real airflow"


def installed_finder() -> AirflowNameFinder | None:
    return next((f for f in sys.meta_path if isinstance(f, AirflowNameFinder)), None)


def real_airflow() -> ModuleSpec | None:
    """Where the real ``airflow`` package would be imported from, found without importing it. Only a regular
    package counts: an ``airflow`` namespace left by provider distributions is not Airflow."""
    module = sys.modules.get(ROOT)
    if module is not None and not isinstance(getattr(module, "__loader__", None), AirflowNameFinder):
        return module.__spec__
    for finder in sys.meta_path:
        if isinstance(finder, AirflowNameFinder):
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(ROOT, None)
        except Exception:  # a third-party finder that cannot answer is no Airflow
            continue
        # A namespace package (provider distributions without Airflow itself) is no Airflow.
        if spec is not None and spec.origin is not None:
            return spec
    return None


def enable_airflow_names(settings: Settings) -> AirflowNames:
    """Install (or keep, or remove) the ``airflow`` finder as ``[core] airflow_compat`` says; idempotent."""
    honour_airflow_env_names(settings.core.airflow_compat)  # AIRFLOW_CONN_<ID> as well as TRADEWIND_CONN_
    current = installed_finder()
    if not settings.core.airflow_compat:
        if current is not None:
            _uninstall(current)
        return AirflowNames.SWITCHED_OFF
    if current is not None:
        current.settings = settings
        return AirflowNames.SERVED
    if real_airflow() is not None:
        return AirflowNames.REAL_AIRFLOW
    sys.meta_path.insert(0, AirflowNameFinder(settings))
    return AirflowNames.SERVED


def _uninstall(finder: AirflowNameFinder) -> None:
    sys.meta_path.remove(finder)
    for name in [n for n, m in sys.modules.items() if n == ROOT or n.startswith(ROOT + ".")]:
        if isinstance(getattr(sys.modules[name], "__loader__", None), AirflowNameFinder):
            del sys.modules[name]


def startup_notice(settings: Settings) -> str | None:
    """The line a service prints at start when Airflow's names are not served although they were asked for."""
    if not settings.core.airflow_compat:
        return None
    spec = real_airflow() if installed_finder() is None else None
    if spec is None:
        return None
    where = spec.origin or ", ".join(spec.submodule_search_locations or []) or "sys.path"
    return (
        f"apache-airflow is installed ({where}): Tradewind's Airflow compatibility layer is disabled, and DAG files "
        "importing `airflow` get the real Airflow, whose DAGs Tradewind does not run. Uninstall apache-airflow "
        "from this environment to run Airflow DAG files with Tradewind."
    )
