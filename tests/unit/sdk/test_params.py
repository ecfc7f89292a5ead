"""Params: JSON Schema validation on plain data (what the API does with a trigger's conf)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tradewind.sdk.errors import ParamValidationError
from tradewind.sdk.params import Param, params_to_spec, resolve_params

PARAMS = {
    "n": Param(5, type="integer", minimum=1, maximum=10, description="how many"),
    "mode": Param("fast", enum=["fast", "slow"]),
    "name": Param(type="string", minLength=2),
    "email": Param("a@example.com", type="string", format="email"),
    "plain": [1, 2],
}


def test_spec_is_plain_json_data() -> None:
    spec = params_to_spec(PARAMS)
    assert json.loads(json.dumps(spec)) == spec
    assert spec["n"] == {
        "default": 5,
        "has_default": True,
        "description": "how many",
        "schema": {"type": "integer", "minimum": 1, "maximum": 10},
    }
    assert spec["name"]["has_default"] is False and spec["name"]["default"] is None
    assert spec["plain"] == {"default": [1, 2], "has_default": True, "description": None, "schema": {}}


def test_conf_merges_over_defaults() -> None:
    spec = params_to_spec(PARAMS)
    resolved = resolve_params(spec, {"name": "ana", "n": 7, "other": "kept"})
    assert resolved == {
        "n": 7,
        "mode": "fast",
        "name": "ana",
        "email": "a@example.com",
        "plain": [1, 2],
        "other": "kept",
    }


@pytest.mark.parametrize(
    ("conf", "param", "reason"),
    [
        ({}, "name", "required and has no default"),
        ({"name": "ana", "n": 11}, "n", "11 is greater than the maximum of 10"),
        ({"name": "ana", "n": "3"}, "n", "'3' is not of type 'integer'"),
        ({"name": "ana", "mode": "medium"}, "mode", "'medium' is not one of \\['fast', 'slow'\\]"),
        ({"name": "a"}, "name", "'a' is too short"),
        ({"name": "ana", "email": "not-an-email"}, "email", "'not-an-email' is not a 'email'"),
    ],
)
def test_invalid_conf_names_the_param_and_reason(conf: dict[str, object], param: str, reason: str) -> None:
    with pytest.raises(ParamValidationError, match=f"param '{param}'.*{reason}") as info:
        resolve_params(params_to_spec(PARAMS), conf)
    assert info.value.param == param


def test_resolve_accepts_model_like_entries() -> None:
    class Entry:
        default = 1
        has_default = True
        schema_ = {"type": "integer"}

    assert resolve_params({"x": Entry()}, None) == {"x": 1}
    with pytest.raises(ParamValidationError):
        resolve_params({"x": Entry()}, {"x": "no"})


def test_param_resolve_and_a_non_json_default() -> None:
    assert Param(3, type="integer").resolve() == 3
    assert Param(3, type="integer").resolve(4) == 4
    with pytest.raises(ParamValidationError, match="not JSON-serialisable"):
        params_to_spec({"when": datetime(2024, 1, 1)})


def test_a_null_default_must_be_allowed_by_the_schema() -> None:
    with pytest.raises(ParamValidationError, match="None is not of type 'string'"):
        resolve_params(params_to_spec({"s": Param(None, type="string")}), None)
    assert resolve_params(params_to_spec({"s": Param(None, type=["null", "string"])}), None) == {"s": None}


def test_an_invalid_schema_is_reported() -> None:
    with pytest.raises(ParamValidationError, match="param 'x' has an invalid schema"):
        resolve_params(params_to_spec({"x": Param(1, type="integr")}), None)
