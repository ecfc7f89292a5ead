"""Variables: named settings DAG code reads at run time; ``TRADEWIND_VAR_<KEY>`` overrides a stored value."""

from __future__ import annotations

import json
import os
from typing import Any, Final

from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.runtime import get_runtime

ENV_PREFIX = "TRADEWIND_VAR_"


class _Required:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Final = _Required()


def env_var_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


class Variable:
    """``Variable.get("bucket")``, ``Variable.get("cfg", deserialize_json=True)``, ``Variable.set(...)``."""

    @staticmethod
    def get(key: str, default_var: Any = _REQUIRED, deserialize_json: bool = False) -> Any:
        """The value of ``key``; ``default_var`` if it does not exist, or NotFoundError without one."""
        value = os.environ.get(env_var_name(key))
        if value is None:
            value = get_runtime().get_variable(key)
        if value is None:
            if default_var is _REQUIRED:
                raise NotFoundError(f"variable {key!r} does not exist", kind="variable", ident=key)
            return default_var
        if not deserialize_json:
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            raise TradewindError(f"variable {key!r} is not valid JSON: {exc}") from exc

    @staticmethod
    def set(key: str, value: Any, serialize_json: bool = False, description: str | None = None) -> None:
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        get_runtime().set_variable(key, text, description)

    @staticmethod
    def delete(key: str) -> None:
        get_runtime().delete_variable(key)

    @staticmethod
    def setdefault(key: str, default: Any, deserialize_json: bool = False) -> Any:
        """The value of ``key``, storing ``default`` first if it does not exist."""
        value = Variable.get(key, default_var=None, deserialize_json=deserialize_json)
        if value is None:
            Variable.set(key, default, serialize_json=deserialize_json)
            return default
        return value
