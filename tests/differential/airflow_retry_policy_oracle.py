"""Run inside a virtual environment holding Apache Airflow (never Tradewind): build each retry policy of the
cases read as JSON on stdin with Airflow's classes, ask it about each exception, and answer with the
decisions (action, delay in seconds, reason) as JSON."""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
from datetime import timedelta

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-oracle-"))

from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _spec(spec):  # type: ignore[no-untyped-def]
    if isinstance(spec, list):
        return [_spec(s) for s in spec]
    return _class(spec["class"]) if isinstance(spec, dict) else spec


def _exception(path: str) -> BaseException:
    cls = _class(path)
    return cls("doc", "{", 1) if path == "json.decoder.JSONDecodeError" else cls("boom")


def answer(case: dict, exceptions: list[str]) -> dict:
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
    for path in exceptions:
        decision = policy.evaluate(_exception(path), try_number=1, max_tries=3)
        delay = decision.retry_delay.total_seconds() if decision.retry_delay is not None else None
        decisions[path] = {"action": decision.action.value, "delay": delay, "reason": decision.reason}
    return decisions


def main() -> None:
    payload = json.load(sys.stdin)
    # Airflow logs (a rule whose class cannot be imported) to stdout: the answer keeps stdout to itself.
    sys.stdout.flush()
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    out = {case_id: answer(case, payload["exceptions"]) for case_id, case in payload["cases"].items()}
    sys.stdout.flush()
    with os.fdopen(answer_fd, "w") as answer_out:
        json.dump(out, answer_out)


if __name__ == "__main__":
    main()
