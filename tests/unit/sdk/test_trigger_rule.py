"""Trigger rules decide run / skip / upstream_failed / wait from upstream counts, as Airflow does."""

from __future__ import annotations

import pytest

from tradewind.sdk.trigger_rule import TriggerRule, UpstreamCounts, evaluate_trigger_rule


def counts(total: int, **states: int) -> dict[str, int]:
    return {"total": total, **states}


# (rule, upstream counts, expected decision)
TABLE = [
    # all_success
    ("all_success", counts(2, success=2), "run"),
    ("all_success", counts(2, success=1), "wait"),
    ("all_success", counts(2, success=1, skipped=1), "skip"),
    ("all_success", counts(2, success=1, failed=1), "upstream_failed"),
    ("all_success", counts(3, failed=1), "upstream_failed"),  # before the others are done
    ("all_success", counts(2, upstream_failed=1, skipped=1), "upstream_failed"),
    ("all_success", counts(3, success=2, removed=1), "run"),
    # all_failed
    ("all_failed", counts(2, failed=1, upstream_failed=1), "run"),
    ("all_failed", counts(2, failed=1), "wait"),
    ("all_failed", counts(2, failed=1, success=1), "skip"),
    ("all_failed", counts(2, skipped=1), "skip"),
    # all_done
    ("all_done", counts(3, success=1, failed=1, skipped=1), "run"),
    ("all_done", counts(3, success=1, failed=1), "wait"),
    ("all_done", counts(2, upstream_failed=2), "run"),
    # all_skipped
    ("all_skipped", counts(2, skipped=2), "run"),
    ("all_skipped", counts(2, skipped=1), "wait"),
    ("all_skipped", counts(2, skipped=1, success=1), "skip"),
    ("all_skipped", counts(3, failed=1), "skip"),
    # one_success fires before every upstream is done
    ("one_success", counts(3, success=1), "run"),
    ("one_success", counts(3, failed=1), "wait"),
    ("one_success", counts(2, failed=2), "upstream_failed"),
    ("one_success", counts(2, failed=1, skipped=1), "upstream_failed"),
    ("one_success", counts(2, skipped=2), "skip"),
    # one_failed
    ("one_failed", counts(3, failed=1), "run"),
    ("one_failed", counts(3, upstream_failed=1), "run"),
    ("one_failed", counts(2, success=1), "wait"),
    ("one_failed", counts(2, success=1, skipped=1), "skip"),
    # one_done
    ("one_done", counts(3, success=1), "run"),
    ("one_done", counts(3, failed=1), "run"),
    ("one_done", counts(2, skipped=1), "wait"),
    ("one_done", counts(2, skipped=1, upstream_failed=1), "skip"),
    # none_failed
    ("none_failed", counts(2, success=1, skipped=1), "run"),
    ("none_failed", counts(2, skipped=2), "run"),
    ("none_failed", counts(2, success=1), "wait"),
    ("none_failed", counts(2, success=1, failed=1), "upstream_failed"),
    ("none_failed", counts(2, upstream_failed=1), "upstream_failed"),
    # none_failed_min_one_success
    ("none_failed_min_one_success", counts(2, success=1, skipped=1), "run"),
    ("none_failed_min_one_success", counts(2, skipped=2), "skip"),
    ("none_failed_min_one_success", counts(2, skipped=1), "wait"),
    ("none_failed_min_one_success", counts(2, failed=1), "upstream_failed"),
    # none_skipped: runs after failures too, but not after a skip
    ("none_skipped", counts(2, success=1, failed=1), "run"),
    ("none_skipped", counts(2, success=1), "wait"),
    ("none_skipped", counts(2, skipped=1), "skip"),
    # all_done_min_one_success: skipped upstreams settle it at once; all done with no success fails it
    ("all_done_min_one_success", counts(3, success=1, failed=1, upstream_failed=1), "run"),
    ("all_done_min_one_success", counts(2, success=1), "wait"),
    ("all_done_min_one_success", counts(3, success=1, skipped=1), "skip"),
    ("all_done_min_one_success", counts(2, failed=2), "upstream_failed"),
    ("all_done_min_one_success", counts(3, success=2, removed=1), "run"),
    # all_done_setup_success (a teardown's rule): all done, and a setup upstream succeeded if there is one
    ("all_done_setup_success", counts(2, success=1, failed=1, setup=1, setup_success=1), "run"),
    ("all_done_setup_success", counts(2, failed=2), "run"),
    ("all_done_setup_success", counts(2, success=1, setup=1, setup_success=1), "wait"),
    ("all_done_setup_success", counts(2, failed=1, upstream_failed=1, setup=1), "upstream_failed"),
    ("all_done_setup_success", counts(2, skipped=2, setup=1, setup_skipped=1), "skip"),
    (
        "all_done_setup_success",
        counts(3, success=1, skipped=1, failed=1, setup=2, setup_success=1, setup_skipped=1),
        "run",
    ),
    # always
    ("always", counts(2), "run"),
    ("always", counts(2, failed=2), "run"),
]


@pytest.mark.parametrize(("rule", "upstream", "expected"), TABLE)
def test_trigger_rule_table(rule: str, upstream: dict[str, int], expected: str) -> None:
    assert evaluate_trigger_rule(rule, upstream) == expected


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_a_task_without_upstream_runs_whatever_its_rule(rule: TriggerRule) -> None:
    assert evaluate_trigger_rule(rule, counts(0)) == "run"


def test_counts_may_be_a_dataclass_with_an_explicit_done() -> None:
    assert evaluate_trigger_rule("all_done", UpstreamCounts(total=2, success=1, done=2)) == "run"
    assert evaluate_trigger_rule(TriggerRule.ALL_SUCCESS, UpstreamCounts(total=2, success=2)) == "run"


def test_every_airflow_rule_exists_with_its_airflow_name() -> None:
    assert {r.value for r in TriggerRule} == {
        "all_success",
        "all_failed",
        "all_done",
        "all_done_min_one_success",
        "all_done_setup_success",
        "all_skipped",
        "one_success",
        "one_failed",
        "one_done",
        "none_failed",
        "none_failed_min_one_success",
        "none_skipped",
        "always",
    }
    assert TriggerRule.ALL_SUCCESS == "all_success"


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown trigger rule 'sometimes'"):
        evaluate_trigger_rule("sometimes", counts(1))
