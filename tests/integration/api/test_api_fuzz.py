"""Schemathesis over the OpenAPI document of an in-process app (ASGI, no server) on a scratch SQLite database
with a DAG and runs in it: as admin, op and viewer, no request the document allows may get a 5xx, and every
answer must match the response schema the document declares. A fixed, derandomised budget keeps it
reproducible and under a minute or so on two CPUs."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.api.conftest import DAG_ID, NOW, PASSWORDS, Site, build_dag, seed_dag
from tradewind.store import new_runs as run_creation
from tradewind.store.engine import transaction

#: Cases per operation for each role (about 80 operations); admin reaches every operation's real work.
EXAMPLES = {"admin": 12, "op": 6, "viewer": 4}
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Only SQLite: the fuzzing looks for faults in the API layer, not in the database driver."""
    return f"sqlite:///{tmp_path / 'fuzz.db'}"


@pytest.fixture
def fuzz_schema(site: Site) -> schemathesis.BaseSchema:
    seed_dag(site.factory, build_dag("second_dag", tags=["other"]))
    with transaction(site.factory) as session:
        for run_id in ("scheduled__2026-03-01T06:00:00+00:00", "manual_one"):
            run_creation.trigger_run(session=session, dag_id=DAG_ID, now=NOW, run_id=run_id)
    return schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", site.app, auth=("admin", PASSWORDS["admin"])
    )


def basic(role: str) -> dict[str, str]:
    token = base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def fuzz(schema: schemathesis.BaseSchema, role: str) -> list[str]:
    """Every operation, EXAMPLES[role] cases each; the failures (Hypothesis shrinks each to its smallest)."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES[role],
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=basic(role), checks=CHECKS)

        # Collected, so one run reports every failing operation.
        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.label} as {role}: {exc}")
    return failures


@pytest.mark.parametrize("role", list(EXAMPLES))
def test_no_request_the_document_allows_gets_a_server_error_or_an_undocumented_answer(
    fuzz_schema: schemathesis.BaseSchema, role: str
) -> None:
    failures = fuzz(fuzz_schema, role)
    assert not failures, "\n\n".join(failures)
