"""Trigger rules as the scheduler applies them to the upstream states of one task instance."""

from __future__ import annotations

from collections import Counter
from enum import Enum

from tradewind.core.states import TaskInstanceState

TI = TaskInstanceState


class Decision(Enum):
    RUN = "run"
    SKIP = "skip"
    UPSTREAM_FAILED = "upstream_failed"
    WAIT = "wait"


def decide(rule: str, states: Counter[TaskInstanceState | None], total: int) -> Decision:
    """Airflow's trigger-rule semantics over the states of all upstream task instances."""
    success = states[TI.SUCCESS]
    skipped = states[TI.SKIPPED]
    failed = states[TI.FAILED]
    upstream_failed = states[TI.UPSTREAM_FAILED]
    removed = states[TI.REMOVED]
    done = success + skipped + failed + upstream_failed + removed
    all_done = done >= total
    if total == 0 or rule == "always":
        return Decision.RUN
    failures = failed + upstream_failed
    if rule == "all_success":
        if failures:
            return Decision.UPSTREAM_FAILED
        if skipped:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    if rule == "all_failed":
        if success or skipped:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    if rule == "all_done":
        return Decision.RUN if all_done else Decision.WAIT
    if rule == "all_skipped":
        if success or failures:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    if rule == "one_success":
        if success:
            return Decision.RUN
        if all_done:
            return Decision.UPSTREAM_FAILED if failures else Decision.SKIP
        return Decision.WAIT
    if rule == "one_failed":
        if failures:
            return Decision.RUN
        return Decision.SKIP if all_done else Decision.WAIT
    if rule == "one_done":
        if success or failures:
            return Decision.RUN
        return Decision.SKIP if all_done else Decision.WAIT
    if rule == "none_failed":
        if failures:
            return Decision.UPSTREAM_FAILED
        return Decision.RUN if all_done else Decision.WAIT
    if rule == "none_failed_min_one_success":
        if failures:
            return Decision.UPSTREAM_FAILED
        if not all_done:
            return Decision.WAIT
        return Decision.RUN if success else Decision.SKIP
    if rule == "none_skipped":
        if skipped:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")
