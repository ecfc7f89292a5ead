"""Tradewind's Connection parses and prints connections as Apache Airflow's does: the URI form (percent-
encoding, the scheme as conn_type with ``-`` -> ``_``, query parameters into extra, ``__extra__``), the JSON
form, and ``get_uri()`` of connections built from fields, parsed back.

Airflow (pinned in tests/external_venvs.py) runs ``airflow_connection_oracle.py`` in its own environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.differential.connection_cases import FIELDS, JSONS, URIS
from tests.external_venvs import AIRFLOW_ORACLE_REQUIREMENTS, ensure_venv, run_json
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import TradewindError

ORACLE = Path(__file__).with_name("airflow_connection_oracle.py")
NAMES = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")


@pytest.fixture(scope="module")
def airflow_answers() -> dict[str, list[dict[str, Any]]]:
    python = ensure_venv(AIRFLOW_ORACLE_REQUIREMENTS)
    answers: dict[str, list[dict[str, Any]]] = run_json(
        python, str(ORACLE), {"uris": URIS, "jsons": JSONS, "fields": FIELDS}
    )
    return answers


def _describe(build: Callable[[], Connection]) -> dict[str, Any]:
    try:
        conn = build()
    except TradewindError:
        return {"error": True}
    values: dict[str, Any] = {f: getattr(conn, f) for f in NAMES}
    values["extra_dejson"] = conn.extra_dejson
    values["uri"] = conn.get_uri()
    return values


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {"error": True} if "error" in answer else answer


@pytest.mark.parametrize("index", range(len(URIS)), ids=URIS)
def test_uri_form(airflow_answers: dict[str, list[dict[str, Any]]], index: int) -> None:
    ours = _describe(lambda: Connection(conn_id="c", uri=URIS[index]))
    assert ours == _comparable(airflow_answers["uris"][index])


@pytest.mark.parametrize("index", range(len(JSONS)), ids=[json.dumps(j) for j in JSONS])
def test_json_form(airflow_answers: dict[str, list[dict[str, Any]]], index: int) -> None:
    ours = _describe(lambda: Connection.from_json(json.dumps(JSONS[index]), conn_id="c"))
    assert ours == _comparable(airflow_answers["jsons"][index])


@pytest.mark.parametrize("index", range(len(FIELDS)), ids=[json.dumps(f) for f in FIELDS])
def test_get_uri_and_back(airflow_answers: dict[str, list[dict[str, Any]]], index: int) -> None:
    expected = dict(airflow_answers["fields"][index])
    reparsed = expected.pop("reparsed", None)
    ours = _describe(lambda: Connection(conn_id="c", **FIELDS[index]))
    assert ours == _comparable(expected)
    if reparsed is not None:
        assert _describe(lambda: Connection(conn_id="c", uri=ours["uri"])) == _comparable(reparsed)
