"""Retry policies built by Tradewind and by Apache Airflow from the same rules must decide the same for the
same exceptions: action, retry delay and the rule's reason (a reason the rule does not give is each side's
own wording, so only its presence is compared).

Airflow (pinned in tests/external_venvs.py) runs ``airflow_retry_policy_oracle.py`` in its own environment;
the policies are in ``retry_policy_cases.py``.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.differential.retry_policy_cases import CASES, EXCEPTIONS
from tests.external_venvs import AIRFLOW_ORACLE_REQUIREMENTS, ensure_venv, run_json
from tradewind.sdk.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

ORACLE = Path(__file__).with_name("airflow_retry_policy_oracle.py")


@pytest.fixture(scope="module")
def airflow_answers() -> dict[str, dict[str, Any]]:
    python = ensure_venv(AIRFLOW_ORACLE_REQUIREMENTS)
    answers: dict[str, dict[str, Any]] = run_json(
        python, str(ORACLE), {"cases": CASES, "exceptions": EXCEPTIONS}
    )
    return answers


def _class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _spec(spec: Any) -> Any:
    if isinstance(spec, list):
        return [_spec(s) for s in spec]
    return _class(spec["class"]) if isinstance(spec, dict) else spec


def _exception(path: str) -> BaseException:
    cls = _class(path)
    return cls("doc", "{", 1) if path == "json.decoder.JSONDecodeError" else cls("boom")  # type: ignore[no-any-return]


def tradewind_answer(case: dict[str, Any]) -> dict[str, Any]:
    rules = [
        RetryRule(
            exception=_spec(rule["exception"]),
            action=RetryAction(rule.get("action", "retry")),
            retry_delay=timedelta(seconds=rule["retry_delay"]) if "retry_delay" in rule else None,
            reason=rule.get("reason"),
            match_subclasses=rule.get("match_subclasses", True),
        )
        for rule in case["rules"]
    ]
    policy = ExceptionRetryPolicy(rules=rules, default=RetryAction(case.get("default", "default")))
    decisions = {}
    for path in EXCEPTIONS:
        decision = policy.evaluate(_exception(path), try_number=1, max_tries=3)
        delay = decision.retry_delay.total_seconds() if decision.retry_delay is not None else None
        decisions[path] = {"action": decision.action.value, "delay": delay, "reason": decision.reason}
    return decisions


def _comparable(decisions: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    given = {rule.get("reason") for rule in case["rules"]} - {None}
    return {
        path: {**d, "reason": d["reason"] if d["reason"] in given else d["reason"] is not None}
        for path, d in decisions.items()
    }


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_same_decisions_as_airflow(case_id: str, airflow_answers: dict[str, dict[str, Any]]) -> None:
    case = CASES[case_id]
    assert _comparable(tradewind_answer(case), case) == _comparable(airflow_answers[case_id], case)
