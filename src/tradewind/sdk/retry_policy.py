"""Retry policies: a task's ``retry_policy`` looks at the exception a failed try raised and says whether to
retry it (with its own delay), fail it now, or leave the decision to the task's ``retries`` settings.

The policy runs where the try ran (the runner), never in the scheduler: the runner turns its decision into
the try's outcome (up_for_retry with a next retry time, or failed), so a policy is not serialized.
"""

from __future__ import annotations

import abc
import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from tradewind.sdk.errors import DagDefinitionError

log = logging.getLogger("tradewind.sdk.retry_policy")

#: An exception class, or the dotted path of one (``"requests.exceptions.HTTPError"``).
ExceptionSpec = type[BaseException] | str


class RetryAction(Enum):
    """What a policy wants done with a failed try."""

    #: Retry, after the rule's delay if it has one; only while the task has retries left.
    RETRY = "retry"
    #: Fail now, even with retries left.
    FAIL = "fail"
    #: No opinion: the task's ``retries`` / ``retry_delay`` settings decide.
    DEFAULT = "default"


@dataclass(frozen=True)
class RetryDecision:
    """A policy's answer for one failed try. ``retry_delay`` None means the task's own delay."""

    action: RetryAction = RetryAction.DEFAULT
    retry_delay: timedelta | None = None
    reason: str | None = None

    @classmethod
    def fail(cls, reason: str | None = None) -> RetryDecision:
        return cls(action=RetryAction.FAIL, reason=reason)

    @classmethod
    def retry(cls, delay: timedelta | None = None, reason: str | None = None) -> RetryDecision:
        return cls(action=RetryAction.RETRY, retry_delay=delay, reason=reason)

    @classmethod
    def default(cls) -> RetryDecision:
        return cls(action=RetryAction.DEFAULT)


class RetryPolicy(abc.ABC):
    """Subclass it and implement ``evaluate`` for retry logic of your own."""

    @abc.abstractmethod
    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Mapping[str, Any] | None = None,
    ) -> RetryDecision:
        """The decision for a try (``try_number``, from 1) that raised ``exception``. Not consulted for
        exceptions that already mean "fail without retry" (TaskFailedNoRetry / AirflowFailException, a
        sensor's timeout) nor for a try stopped from outside."""


def resolve_exception_class(path: str) -> type[BaseException] | None:
    """The exception class a dotted path names, or None when it cannot be imported or is not one."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for name in parts[split:]:
                target = getattr(target, name)
        except AttributeError:
            return None
        if isinstance(target, type) and issubclass(target, BaseException):
            return target
        return None
    return None


def _dotted_path(spec: ExceptionSpec) -> str:
    return spec if isinstance(spec, str) else f"{spec.__module__}.{spec.__qualname__}"


class RetryRule:
    """One mapping from exception class(es) to an action. ``exception`` is a class, a dotted path, or a list
    of either (the rule matches any of them); ``match_subclasses=False`` matches exact types only."""

    def __init__(
        self,
        exception: ExceptionSpec | Sequence[ExceptionSpec],
        action: RetryAction = RetryAction.RETRY,
        retry_delay: timedelta | float | None = None,
        reason: str | None = None,
        match_subclasses: bool = True,
    ) -> None:
        specs: list[ExceptionSpec] = (
            list(exception) if isinstance(exception, list | tuple) else [exception]  # type: ignore[list-item]
        )
        if not specs:
            raise DagDefinitionError("RetryRule: exception must name at least one exception class")
        for spec in specs:
            _check_spec(spec)
        if not isinstance(action, RetryAction):
            raise DagDefinitionError(f"RetryRule: action must be a RetryAction, got {action!r}")
        if isinstance(retry_delay, int | float) and not isinstance(retry_delay, bool):
            retry_delay = timedelta(seconds=retry_delay)
        if retry_delay is not None and not isinstance(retry_delay, timedelta):
            raise DagDefinitionError(
                f"RetryRule: retry_delay must be a timedelta or a number of seconds, got {retry_delay!r}"
            )
        self.exception = exception
        self.specs: list[ExceptionSpec] = specs
        self.action = action
        self.retry_delay = retry_delay
        self.reason = reason
        self.match_subclasses = match_subclasses
        self._classes: list[type[BaseException]] | None = None

    def __repr__(self) -> str:
        paths = ", ".join(_dotted_path(s) for s in self.specs)
        return f"RetryRule([{paths}], action={self.action.value})"

    @property
    def exception_path(self) -> str:
        """The dotted path(s) of the rule's exception class(es), comma-separated."""
        return ",".join(_dotted_path(s) for s in self.specs)

    def exception_classes(self) -> list[type[BaseException]]:
        """The rule's classes, dotted paths imported on first use (a path that cannot be is left out)."""
        if self._classes is None:
            classes: list[type[BaseException]] = []
            for spec in self.specs:
                cls = spec if isinstance(spec, type) else resolve_exception_class(spec)
                if cls is None:
                    log.warning(
                        "RetryRule: cannot import exception class %r; the rule never matches it", spec
                    )
                else:
                    classes.append(cls)
            self._classes = classes
        return self._classes

    def matches(self, exception: BaseException) -> bool:
        classes = self.exception_classes()
        if self.match_subclasses:
            return isinstance(exception, tuple(classes))
        return type(exception) in classes


def _check_spec(spec: object) -> None:
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return
    if not isinstance(spec, str):
        raise DagDefinitionError(
            f"RetryRule: exception must be an exception class or dotted path, got {spec!r}"
        )
    if "." not in spec or not all(spec.split(".")):
        raise DagDefinitionError(
            f"RetryRule: exception {spec!r} must be a dotted path such as 'builtins.ValueError'"
        )
    if resolve_exception_class(spec) is None:
        # The class may exist only where tasks run (a worker image with more packages).
        log.warning("RetryRule: exception class %r cannot be imported here; check the path for typos", spec)


class ExceptionRetryPolicy(RetryPolicy):
    """Rules tried in order; the first that matches the exception decides. No match: ``default``."""

    def __init__(self, rules: Sequence[RetryRule], default: RetryAction = RetryAction.DEFAULT) -> None:
        bad = [r for r in rules if not isinstance(r, RetryRule)]
        if bad:
            raise DagDefinitionError(f"ExceptionRetryPolicy: rules must be RetryRule objects, got {bad[0]!r}")
        self.rules = list(rules)
        self.default = default

    def __repr__(self) -> str:
        return f"ExceptionRetryPolicy(rules={self.rules!r}, default={self.default.value})"

    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Mapping[str, Any] | None = None,
    ) -> RetryDecision:
        for rule in self.rules:
            if rule.matches(exception):
                return RetryDecision(
                    action=rule.action,
                    retry_delay=rule.retry_delay,
                    reason=rule.reason or f"retry policy rule for {type(exception).__name__} matched",
                )
        return RetryDecision(action=self.default)


def consult_policy(
    policy: object,
    exception: BaseException,
    *,
    try_number: int,
    max_tries: int,
    context: Mapping[str, Any] | None,
    log: logging.Logger,
) -> RetryDecision | None:
    """The decision of a task's ``retry_policy`` for a failed try, logged; None without a policy, or when
    the policy itself fails (then the task's retry settings decide, and the failure is logged)."""
    if policy is None:
        return None
    evaluate = getattr(policy, "evaluate", None)
    if evaluate is None:
        log.error("retry_policy %r has no evaluate() method; the task's retry settings decide", policy)
        return None
    try:
        decision = evaluate(exception=exception, try_number=try_number, max_tries=max_tries, context=context)
    except Exception:
        log.exception("the retry policy failed; the task's retry settings decide")
        return None
    if not isinstance(decision, RetryDecision):
        log.error("retry policy returned %r, not a RetryDecision; the task's retry settings decide", decision)
        return None
    if decision.action is not RetryAction.DEFAULT or decision.reason:
        delay = f", delay {decision.retry_delay}" if decision.retry_delay is not None else ""
        log.info(
            "Retry policy decision: %s%s (%s)", decision.action.value, delay, decision.reason or "no reason"
        )
    return decision
