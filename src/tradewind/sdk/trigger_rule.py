"""Trigger rules: the names a task uses to say when it runs, and the pure function that applies them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Decision = Literal["run", "skip", "upstream_failed", "wait"]


class TriggerRule(StrEnum):
    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"

    @classmethod
    def is_valid(cls, value: object) -> bool:
        return isinstance(value, str) and value in cls._value2member_map_


@dataclass(frozen=True, slots=True)
class UpstreamCounts:
    """How many upstream task instances are in each finished state. ``done`` counts all five of them.

    ``setup*`` count the instances of upstream *setup* tasks among them (``all_done_setup_success``).
    """

    total: int
    success: int = 0
    skipped: int = 0
    failed: int = 0
    upstream_failed: int = 0
    removed: int = 0
    done: int | None = None  # None: the sum of the five finished states
    setup: int = 0
    setup_success: int = 0
    setup_skipped: int = 0

    @classmethod
    def of(cls, counts: UpstreamCounts | Mapping[str, int]) -> UpstreamCounts:
        if isinstance(counts, UpstreamCounts):
            return counts
        return cls(
            total=int(counts.get("total", 0)),
            success=int(counts.get("success", 0)),
            skipped=int(counts.get("skipped", 0)),
            failed=int(counts.get("failed", 0)),
            upstream_failed=int(counts.get("upstream_failed", 0)),
            removed=int(counts.get("removed", 0)),
            done=counts.get("done"),
            setup=int(counts.get("setup", 0)),
            setup_success=int(counts.get("setup_success", 0)),
            setup_skipped=int(counts.get("setup_skipped", 0)),
        )

    @property
    def finished(self) -> int:
        if self.done is not None:
            return self.done
        return self.success + self.skipped + self.failed + self.upstream_failed + self.removed


def evaluate_trigger_rule(rule: str, counts: UpstreamCounts | Mapping[str, int]) -> Decision:
    """Decide a task's fate from its upstream counts, as Airflow's TriggerRuleDep does.

    Returns ``"run"`` (ready), ``"skip"`` or ``"upstream_failed"`` (settle the task without running it), or
    ``"wait"``. A settling decision may come before every upstream task is done (``all_success`` with one
    failed upstream is ``upstream_failed`` at once). Removed upstream instances count as neither success nor
    failure: they drop out of the "all of them" requirements, as for Airflow's mapped tasks.
    """
    if not TriggerRule.is_valid(rule):
        raise ValueError(f"unknown trigger rule {rule!r}")
    c = UpstreamCounts.of(counts)
    if c.total <= 0:
        return "run"
    settled = _settle(TriggerRule(rule), c)
    if settled is not None:
        return settled
    return "run" if _ready(TriggerRule(rule), c) else "wait"


def _settle(rule: TriggerRule, c: UpstreamCounts) -> Decision | None:
    all_done = c.finished >= c.total
    failures = c.failed + c.upstream_failed
    if rule is TriggerRule.ALL_SUCCESS:
        if failures:
            return "upstream_failed"
        if c.skipped:
            return "skip"
    elif rule is TriggerRule.ALL_FAILED:
        if c.success or c.skipped:
            return "skip"
    elif rule is TriggerRule.ONE_SUCCESS:
        if all_done and c.finished == c.skipped:
            return "skip"
        if all_done and c.success <= 0:
            return "upstream_failed"
    elif rule is TriggerRule.ONE_FAILED:
        if all_done and not failures:
            return "skip"
    elif rule is TriggerRule.ONE_DONE:
        if all_done and not (c.failed or c.success):
            return "skip"
    elif rule is TriggerRule.NONE_FAILED:
        if failures:
            return "upstream_failed"
    elif rule is TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS:
        if failures:
            return "upstream_failed"
        if c.skipped == c.total:
            return "skip"
    elif rule is TriggerRule.NONE_SKIPPED:
        if c.skipped:
            return "skip"
    elif rule is TriggerRule.ALL_SKIPPED and (c.success or failures):
        return "skip"
    elif rule is TriggerRule.ALL_DONE_MIN_ONE_SUCCESS:
        # A skipped upstream settles it at once; a done set with no success is a failure.
        if c.skipped:
            return "skip"
        if c.finished >= c.total and c.success <= 0:
            return "upstream_failed"
    elif rule is TriggerRule.ALL_DONE_SETUP_SUCCESS and all_done and c.setup:
        if c.setup_skipped >= c.setup:
            return "skip"
        if c.setup_success <= 0:
            return "upstream_failed"
    return None


def _ready(rule: TriggerRule, c: UpstreamCounts) -> bool:
    needed = c.total - c.removed
    if rule is TriggerRule.ALWAYS:
        return True
    if rule is TriggerRule.ALL_SUCCESS:
        return c.success >= needed
    if rule is TriggerRule.ALL_FAILED:
        return c.failed + c.upstream_failed >= needed
    if rule is TriggerRule.ALL_DONE:
        return c.finished >= c.total
    if rule is TriggerRule.ALL_DONE_SETUP_SUCCESS:
        return c.finished >= c.total and (not c.setup or c.setup_success > 0)
    if rule is TriggerRule.ALL_DONE_MIN_ONE_SUCCESS:
        return c.success + c.failed + c.upstream_failed >= needed - c.skipped and c.success > 0
    if rule is TriggerRule.ALL_SKIPPED:
        return c.skipped >= needed
    if rule is TriggerRule.ONE_SUCCESS:
        return c.success > 0
    if rule is TriggerRule.ONE_FAILED:
        return c.failed + c.upstream_failed > 0
    if rule is TriggerRule.ONE_DONE:
        return c.success + c.failed > 0
    if rule in (TriggerRule.NONE_FAILED, TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS):
        return c.success + c.skipped >= needed
    if rule is TriggerRule.NONE_SKIPPED:
        return c.finished >= c.total
    raise AssertionError(f"unhandled trigger rule {rule}")  # pragma: no cover - the enum is exhaustive
