"""Every name of the table imports as Airflow spells it and is Tradewind's object, or fails as not supported."""

from __future__ import annotations

import importlib

import pytest

from tradewind.compat.airflow.config_view import AirflowConfigView
from tradewind.compat.airflow.names import AIRFLOW_NAMES, LATER, served_modules
from tradewind.compat.airflow.unsupported import AirflowNameNotSupported
from tradewind.config.settings import Settings
from tradewind.sdk.errors import DagImportError, TaskFailedNoRetry, TaskSkipped, TradewindError

ENTRIES = sorted(
    (module, name, target) for module, names in AIRFLOW_NAMES.items() for name, target in names.items()
)


def _tradewind_object(target: str) -> object:
    """The target imported directly, or None when Tradewind does not have it (yet)."""
    if ":" not in target:
        return importlib.import_module(target)
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    return getattr(module, attribute, None)


@pytest.mark.parametrize(("module", "name", "target"), ENTRIES, ids=[f"{m}.{n}" for m, n, _ in ENTRIES])
def test_table_entry_imports_as_tradewinds_object(
    airflow_names: Settings, module: str, name: str, target: str
) -> None:
    expected = _tradewind_object(target)
    if expected is None:
        with pytest.raises(AirflowNameNotSupported, match=f"{module}.{name} is not supported by Tradewind"):
            exec(f"from {module} import {name}", {})
        return
    namespace: dict[str, object] = {}
    exec(f"from {module} import {name}", namespace)
    if isinstance(expected, AirflowConfigView):  # a view of the settings, built for each module
        assert isinstance(namespace[name], AirflowConfigView)
        return
    assert namespace[name] is expected


@pytest.mark.parametrize("module", sorted(served_modules()))
def test_every_served_module_and_its_parents_import(airflow_names: Settings, module: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__name__ == module
    assert set(imported.__all__) == set(AIRFLOW_NAMES.get(module, {}))


def test_airflow_meanings_of_the_common_names(airflow_names: Settings) -> None:
    from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
    from airflow.operators.dummy import DummyOperator
    from airflow.providers.standard.operators.empty import EmptyOperator

    import tradewind

    assert AirflowSkipException is TaskSkipped
    assert AirflowFailException is TaskFailedNoRetry
    assert AirflowException is TradewindError
    assert DummyOperator is EmptyOperator is tradewind.EmptyOperator
    import airflow.operators.bash

    assert airflow.operators.bash.BashOperator is tradewind.BashOperator


def test_a_name_that_is_a_module_in_airflow_is_the_served_module(airflow_names: Settings) -> None:
    from airflow.providers.common.compat.sdk import timezone
    from airflow.utils import timezone as utils_timezone

    assert timezone is utils_timezone
    assert timezone.utcnow().tzinfo is not None


@pytest.mark.parametrize("airflow_name", sorted(LATER))
def test_planned_features_say_they_come_later(airflow_names: Settings, airflow_name: str) -> None:
    module, _, name = airflow_name.rpartition(".")
    is_attribute = module in served_modules() and airflow_name not in served_modules()
    statement = f"from {module} import {name}" if is_attribute else f"import {airflow_name}"
    with pytest.raises(
        AirflowNameNotSupported, match=r"not supported by Tradewind yet \(.* later release\)"
    ) as info:
        exec(statement, {})
    assert airflow_name in str(info.value)
    assert isinstance(info.value, ImportError) and isinstance(info.value, DagImportError)
