"""Tradewind's timetables against Apache Airflow's own, run by run, on generated cases.

Airflow (pinned in tests/external_venvs.py) is installed into its own virtual environment at test time and
asked through ``airflow_timetable_oracle.py``; Tradewind answers the same cases in process. Every field of
every run (logical date, data interval start and end, run after) and every manual run's data interval must
agree. A deliberate difference would be listed in docs/airflow-compatibility.md and excluded here by id;
today there is none.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.differential.timetable_cases import generate_cases, tradewind_answer
from tests.external_venvs import AIRFLOW_ORACLE_REQUIREMENTS, ensure_venv, run_json

ORACLE = Path(__file__).with_name("airflow_timetable_oracle.py")


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return generate_cases()


@pytest.fixture(scope="module")
def airflow_answers(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    python = ensure_venv(AIRFLOW_ORACLE_REQUIREMENTS)
    answers = run_json(python, str(ORACLE), cases)
    return {answer["id"]: answer for answer in answers}


def _in_repeated_hour(instant: str, zone: str) -> bool:
    """Whether ``instant`` shows a wall-clock time that happens twice in ``zone`` (clocks went back)."""
    local = datetime.fromisoformat(instant).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    tz = ZoneInfo(zone)
    return local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset()


def test_the_cases_reach_the_hard_places(cases: list[dict[str, Any]], airflow_answers: dict[str, Any]) -> None:
    """The comparison means something only if Airflow scheduled runs, many inside DST changes."""
    assert len(cases) >= 400
    errors = [a for a in airflow_answers.values() if "error" in a]
    assert len(errors) <= len(cases) // 20, errors[:5]
    with_runs = [a for a in airflow_answers.values() if a.get("runs")]
    assert len(with_runs) >= len(cases) * 0.8
    zones = {case["id"]: case["timetable"].get("timezone", "UTC") for case in cases}
    at_changes = [
        run
        for answer in with_runs
        for run in answer["runs"]
        if _in_repeated_hour(run[3], zones[answer["id"]])
    ]
    assert len(at_changes) >= 50, "too few runs fall in an hour that a clock change repeats"
    kinds = {case["timetable"]["kind"] for case in cases}
    assert kinds >= {
        "cron_interval", "cron_trigger", "multi_cron", "delta_interval", "delta_trigger",
        "once", "continuous", "none", "events",
    }


def test_every_case_agrees_with_airflow(cases: list[dict[str, Any]], airflow_answers: dict[str, Any]) -> None:
    differences = []
    for case in cases:
        ours = tradewind_answer(case)
        theirs = airflow_answers[case["id"]]
        if "error" in theirs or "error" in ours:
            if ("error" in theirs) != ("error" in ours):
                differences.append({"case": case, "tradewind": ours, "airflow": theirs})
            continue
        if ours != theirs:
            differences.append({"case": case, "tradewind": ours, "airflow": theirs})
    assert not differences, (
        f"{len(differences)} of {len(cases)} cases differ from Airflow; first ones:\n"
        + "\n".join(json.dumps(d, indent=1) for d in differences[:3])
    )
