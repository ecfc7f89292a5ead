"""Params: a DAG's typed run arguments (JSON Schema), and pure functions that validate a trigger's conf
against their plain-data form, so the API and CLI need not import the DAG file."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, Final

from tradewind.sdk.errors import ParamValidationError


class _NotSet:
    def __repr__(self) -> str:
        return "NOTSET"

    def __bool__(self) -> bool:
        return False


NOTSET: Final = _NotSet()


class Param:
    """``Param(5, type="integer", minimum=1)``: a default, a description, and JSON Schema keywords."""

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any) -> None:
        self.value = default
        self.description = description
        self.schema: dict[str, Any] = dict(schema)

    @property
    def has_value(self) -> bool:
        return self.value is not NOTSET

    def with_default(self, default: Any) -> Param:
        return Param(default, self.description, **copy.deepcopy(self.schema))

    def resolve(self, value: Any = NOTSET, *, name: str = "param") -> Any:
        """The validated value: ``value`` if given, else the default."""
        spec = {name: _spec_of(name, self)}
        return resolve_params(spec, {name: value} if value is not NOTSET else None)[name]

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.schema.items())
        return f"Param({self.value!r}{extra})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Param)
            and self.value == other.value
            and self.description == other.description
            and self.schema == other.schema
        )

    __hash__ = None  # type: ignore[assignment]


def as_param(value: Any) -> Param:
    return value if isinstance(value, Param) else Param(value)


def _spec_of(name: str, param: Param) -> dict[str, Any]:
    default = param.value if param.has_value else None
    try:
        default = json.loads(json.dumps(default))
    except (TypeError, ValueError) as exc:
        raise ParamValidationError(
            f"param {name!r}: default {param.value!r} is not JSON-serialisable ({exc})", param=name
        ) from exc
    return {
        "default": default,
        "has_default": param.has_value,
        "description": param.description,
        "schema": copy.deepcopy(param.schema),
    }


def params_to_spec(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain data for each param: ``{"default", "has_default", "description", "schema"}``."""
    return {name: _spec_of(name, as_param(value)) for name, value in params.items()}


def _get(entry: Any, key: str, default: Any = None) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(key, default)
    if key == "schema":  # pydantic models name it schema_ to dodge BaseModel.schema
        return getattr(entry, "schema_", default)
    return getattr(entry, key, default)


def resolve_params(spec: Mapping[str, Any], conf: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge ``conf`` over the defaults and validate each param against its schema.

    Keys of ``conf`` that are not params pass through unchecked, as Airflow lets conf override params.
    Raises ParamValidationError naming the param (a required param with no value too).
    """
    import jsonschema

    conf = dict(conf or {})
    resolved: dict[str, Any] = {}
    for name, entry in spec.items():
        if name in conf:
            value = conf.pop(name)
        elif _get(entry, "has_default", True):
            value = copy.deepcopy(_get(entry, "default"))
        else:
            raise ParamValidationError(
                f"param {name!r} is required and has no default: give it a value in the run's conf",
                param=name,
            )
        schema = _get(entry, "schema") or {}
        try:
            jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
        except jsonschema.ValidationError as exc:
            raise ParamValidationError(f"param {name!r}: {exc.message}", param=name) from None
        except jsonschema.SchemaError as exc:
            raise ParamValidationError(
                f"param {name!r} has an invalid schema: {exc.message}", param=name
            ) from None
        resolved[name] = value
    resolved.update(conf)
    return resolved
