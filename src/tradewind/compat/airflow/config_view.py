"""``airflow.configuration.conf``: a read-only view of Tradewind's Settings with Airflow's getters.

Sections and keys are Tradewind's (``conf.get("core", "parallelism")``); Airflow-only keys are absent, so
``has_option`` is False for them and ``get`` returns the ``fallback`` or raises ConfigError naming the key.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel, SecretStr

from tradewind.compat.airflow.finder import AirflowNameFinder
from tradewind.config.settings import Settings, load_settings
from tradewind.sdk.errors import ConfigError

_MISSING: Any = object()
_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}
#: Settings whose unset value means a path under TRADEWIND_HOME: the property of Settings that holds it.
_DERIVED = {("core", "dags_folder"): "dags_folder", ("logging", "base_log_folder"): "base_log_folder"}


class AirflowConfigView:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _lookup(self, section: str, key: str) -> Any:
        section_value = getattr(self._settings, section.lower(), _MISSING)
        if not isinstance(section_value, BaseModel):
            return _MISSING
        value = getattr(section_value, key.lower(), _MISSING)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None:  # a default derived from TRADEWIND_HOME
            derived = _DERIVED.get((section.lower(), key.lower()))
            return getattr(self._settings, derived) if derived else None
        return value

    def has_option(self, section: str, key: str) -> bool:
        return self._lookup(section, key) is not _MISSING

    def get(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> Any:
        value = self._lookup(section, key)
        if value is _MISSING or value is None:
            if fallback is not _MISSING:
                return fallback
            if value is None:
                return None
            raise ConfigError(
                f"no setting [{section}] {key} in Tradewind's configuration", key=f"{section}.{key}"
            )
        return str(value) if not isinstance(value, bool) else str(value).lower()

    def getboolean(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> bool:
        value = self.get(section, key, fallback=fallback)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"[{section}] {key} is {value!r}, not a boolean", key=f"{section}.{key}")

    def getint(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> int:
        value = self.get(section, key, fallback=fallback)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"[{section}] {key} is {value!r}, not an integer", key=f"{section}.{key}"
            ) from None

    def getfloat(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> float:
        value = self.get(section, key, fallback=fallback)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"[{section}] {key} is {value!r}, not a number", key=f"{section}.{key}"
            ) from None


def __getattr__(name: str) -> Any:
    if name != "conf":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    installed = next((f for f in sys.meta_path if isinstance(f, AirflowNameFinder)), None)
    return AirflowConfigView(installed.settings if installed is not None else load_settings())
