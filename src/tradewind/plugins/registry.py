"""The plugins of this process: loaded once per plugins folder, their macros and timetables registered.

Call ``ensure_plugins_loaded(settings)`` where plugins matter (DAG parsing, task tries, the scheduler, the
webserver, ``tradewind plugins``); later calls return what the first one loaded.
"""

from __future__ import annotations

import logging
import sys
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path

from tradewind.compat.airflow.activation import enable_airflow_names
from tradewind.config.settings import Settings
from tradewind.plugins.loading import PluginImportError, import_plugin_folder, line_in_file
from tradewind.sdk import macros
from tradewind.sdk.plugins import AirflowPlugin
from tradewind.sdk.schedules import register_timetable

log = logging.getLogger("tradewind.plugins")


@dataclass
class LoadedPlugins:
    folder: Path
    plugins: list[type[AirflowPlugin]] = field(default_factory=list)
    errors: list[PluginImportError] = field(default_factory=list)


_loaded: dict[Path, LoadedPlugins] = {}
_lock = threading.Lock()


def ensure_plugins_loaded(settings: Settings) -> LoadedPlugins:
    """Import ``settings.plugins_folder`` unless this process already did, and register its plugins."""
    folder = settings.plugins_folder.expanduser().resolve()
    with _lock:
        done = _loaded.get(folder)
        if done is not None:
            return done
        # Plugin files written for Airflow import ``airflow.plugins_manager``.
        enable_airflow_names(settings)
        if folder.is_dir() and str(folder) not in sys.path:
            # As Airflow: DAG files import modules that live in the plugins folder (custom timetables ...).
            sys.path.append(str(folder))
        found = import_plugin_folder(folder)
        state = LoadedPlugins(folder=folder, errors=list(found.errors))
        taken = {p.name for loaded in _loaded.values() for p in loaded.plugins}
        for plugin in found.plugins:
            error = _register(plugin, taken)
            if error is None:
                state.plugins.append(plugin)
                taken.add(plugin.name)
            else:
                log.error("plugin %s not loaded: %s", plugin.__qualname__, error)
                state.errors.append(error)
        _loaded[folder] = state
        if state.plugins:
            log.info("loaded plugin(s) %s from %s", ", ".join(str(p.name) for p in state.plugins), folder)
        return state


def loaded_plugins() -> list[type[AirflowPlugin]]:
    """Every plugin registered in this process."""
    return [p for state in _loaded.values() for p in state.plugins]


def _register(plugin: type[AirflowPlugin], taken: set[str | None]) -> PluginImportError | None:
    source = sys.modules[plugin.__module__].__file__ or plugin.__module__
    plugin.source = source
    if not plugin.name or not isinstance(plugin.name, str):
        return PluginImportError(source, None, f"plugin class {plugin.__qualname__} has no `name`")
    if plugin.name in taken:
        return PluginImportError(source, None, f"a plugin named {plugin.name!r} is already loaded; skipped")
    try:
        plugin.on_load()
        for timetable in plugin.timetables:
            register_timetable(timetable)
    except Exception as exc:
        return PluginImportError(
            source, line_in_file(exc, Path(source)), f"plugin {plugin.name!r}: {type(exc).__name__}: {exc}"
        )
    _integrate_macros(plugin)
    return None


def _integrate_macros(plugin: type[AirflowPlugin]) -> None:
    """``macros.<plugin name>.<function>`` in templates, as Airflow's plugin macros."""
    if not plugin.macros:
        return
    name = str(plugin.name)
    module = types.ModuleType(f"{macros.__name__}.{name}")
    for function in plugin.macros:
        setattr(module, function.__name__, function)
    sys.modules[module.__name__] = module
    setattr(macros, name, module)
