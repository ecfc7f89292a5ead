"""The trigger form: fields generated from params, and the conf built from what was typed."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from tradewind.api.ui.routes.trigger import conf_from_form, param_fields
from tradewind.core.serialized_dag import SerializedDag, SerializedParam
from tradewind.sdk.errors import ParamValidationError


def dag() -> SerializedDag:
    return SerializedDag(
        dag_id="d",
        fileloc="d.py",
        params={
            "count": SerializedParam(default=3, schema={"type": "integer"}),
            "ratio": SerializedParam(default=None, schema={"type": ["null", "number"]}),
            "dry": SerializedParam(default=False, schema={"type": "boolean"}),
            "env": SerializedParam(default="dev", schema={"type": "string", "enum": ["dev", "prod"]}),
            "ids": SerializedParam(default=[1, 2], schema={"type": "array"}),
            "who": SerializedParam(has_default=False, schema={"type": "string"}, description="your name"),
        },
    )


def test_fields_follow_the_param_schemas() -> None:
    fields = {f["name"]: f for f in param_fields(dag())}
    assert fields["count"]["widget"] == "number" and fields["count"]["value"] == "3"
    assert fields["ratio"]["nullable"] and fields["dry"]["widget"] == "boolean"
    assert fields["env"]["options"] == ["dev", "prod"] and fields["ids"]["value"] == "[1, 2]"
    assert fields["who"]["required"] and fields["who"]["description"] == "your name"


def test_typed_values_become_conf() -> None:
    form = FormData(
        [
            ("param__count", "5"),
            ("param__ratio", ""),
            ("param__dry", "true"),
            ("param__env", "prod"),
            ("param__ids", "[3]"),
            ("param__who", "ann"),
        ]
    )
    conf, _raw = conf_from_form(dag(), form)
    assert conf == {"count": 5, "ratio": None, "dry": True, "env": "prod", "ids": [3], "who": "ann"}


def test_bad_values_name_the_param() -> None:
    with pytest.raises(ParamValidationError, match="count"):
        conf_from_form(dag(), FormData([("param__count", "five")]))
    with pytest.raises(ParamValidationError, match="env"):
        conf_from_form(dag(), FormData([("param__env", "staging")]))
    with pytest.raises(ParamValidationError, match="JSON"):
        conf_from_form(dag(), FormData([("mode", "json"), ("conf_json", "{oops")]))
    with pytest.raises(ParamValidationError, match="object"):
        conf_from_form(dag(), FormData([("mode", "json"), ("conf_json", "[1]")]))
