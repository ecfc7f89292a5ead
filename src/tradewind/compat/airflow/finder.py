"""A meta-path finder that builds ``airflow.*`` modules from the name table, resolving each name on first use."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from tradewind.compat.airflow.names import AIRFLOW_NAMES, LATER, served_modules
from tradewind.compat.airflow.unsupported import being_imported, not_supported
from tradewind.config.settings import Settings

ROOT = "airflow"


def is_airflow_name(fullname: str) -> bool:
    return fullname == ROOT or fullname.startswith(ROOT + ".")


class AirflowNameFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves every module of ``AIRFLOW_NAMES`` (and its parents) as a package whose attributes are resolved
    from the table when user code asks for them; any other ``airflow`` module fails as not supported.

    ``settings`` is what ``airflow.configuration.conf`` shows.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._served = served_modules()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not is_airflow_name(fullname):
            return None
        if fullname in self._served:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if not being_imported(fullname):
            return None  # a probe (importlib.util.find_spec) learns the module is not there
        if fullname in LATER:
            raise not_supported(fullname, later=LATER[fullname])
        raise not_supported(fullname)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        names = AIRFLOW_NAMES.get(module.__name__, {})
        module.__all__ = sorted(names)  # type: ignore[attr-defined]
        module.__getattr__ = _attribute_resolver(module, self._served)  # type: ignore[method-assign]


def _attribute_resolver(module: ModuleType, served: frozenset[str]) -> Any:
    modname = module.__name__
    names = AIRFLOW_NAMES.get(modname, {})

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {modname!r} has no attribute {name!r}")
        airflow_name = f"{modname}.{name}"
        if airflow_name in LATER:
            raise not_supported(airflow_name, later=LATER[airflow_name])
        target = names.get(name)
        if target is None:
            if airflow_name in served:
                return importlib.import_module(airflow_name)
            raise not_supported(airflow_name)
        value = resolve_target(target, airflow_name)
        setattr(module, name, value)
        return value

    return __getattr__


def resolve_target(target: str, airflow_name: str) -> Any:
    """The object ``target`` names; not supported (naming ``airflow_name``) if its module or attribute is
    missing. A module that exists but fails to import raises its own error."""
    if ":" not in target:
        return importlib.import_module(target)
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise not_supported(airflow_name) from None
        raise
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise not_supported(airflow_name) from None
