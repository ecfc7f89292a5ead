"""Retry policies: which rule decides for an exception, and how the decision ends a failed try."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind.core.retries import failed_try_end
from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState
from tradewind.runner.task_loading import concrete_task
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.retry_policy import (
    ExceptionRetryPolicy,
    RetryAction,
    RetryDecision,
    RetryPolicy,
    RetryRule,
    consult_policy,
)

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
TASK = SerializedTask(task_id="t", operator="PythonOperator", retry_delay=60.0)
log = logging.getLogger("test.retry_policy")


class ApiError(Exception):
    pass


class RateLimited(ApiError):
    pass


def _decide(policy: RetryPolicy, exc: BaseException) -> RetryDecision:
    return policy.evaluate(exc, try_number=1, max_tries=3)


def test_a_rule_matches_its_class_given_as_object_or_dotted_name() -> None:
    policy = ExceptionRetryPolicy(
        rules=[
            RetryRule(exception=KeyError, action=RetryAction.FAIL, reason="bad key"),
            RetryRule(exception="json.decoder.JSONDecodeError", action=RetryAction.RETRY, reason="bad json"),
            RetryRule(exception=f"{__name__}.ApiError", action=RetryAction.RETRY, retry_delay=5),
        ]
    )
    assert _decide(policy, KeyError("k")) == RetryDecision(RetryAction.FAIL, reason="bad key")
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads("{")
    assert _decide(policy, caught.value) == RetryDecision(RetryAction.RETRY, reason="bad json")
    decision = _decide(policy, ApiError("down"))
    assert (decision.action, decision.retry_delay) == (RetryAction.RETRY, timedelta(seconds=5))
    # No reason given: one that names the exception.
    assert decision.reason is not None and "ApiError" in decision.reason


def test_subclasses_match_unless_the_rule_asks_for_exact_types() -> None:
    loose = ExceptionRetryPolicy(rules=[RetryRule(exception=ApiError, action=RetryAction.FAIL)])
    exact = ExceptionRetryPolicy(
        rules=[RetryRule(exception=ApiError, action=RetryAction.FAIL, match_subclasses=False)]
    )
    assert _decide(loose, RateLimited()).action is RetryAction.FAIL
    assert _decide(exact, RateLimited()).action is RetryAction.DEFAULT
    assert _decide(exact, ApiError()).action is RetryAction.FAIL


def test_the_first_matching_rule_decides_and_no_match_gives_the_default() -> None:
    policy = ExceptionRetryPolicy(
        rules=[
            RetryRule(exception=RateLimited, action=RetryAction.RETRY, reason="slow down"),
            RetryRule(exception=[ValueError, ApiError], action=RetryAction.FAIL, reason="broken"),
        ]
    )
    assert _decide(policy, RateLimited()).reason == "slow down"
    assert _decide(policy, ApiError()).reason == "broken"
    assert _decide(policy, ValueError()).reason == "broken"
    assert _decide(policy, OSError()) == RetryDecision(RetryAction.DEFAULT)
    failing = ExceptionRetryPolicy(rules=[], default=RetryAction.FAIL)
    assert _decide(failing, OSError()).action is RetryAction.FAIL


def test_a_dotted_name_that_cannot_be_imported_never_matches(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        rule = RetryRule(exception="no_such_package.errors.Boom", action=RetryAction.FAIL)
    assert "cannot be imported" in caplog.text
    assert ExceptionRetryPolicy(rules=[rule]).evaluate(Exception(), 1, 1).action is RetryAction.DEFAULT


@pytest.mark.parametrize("spec", ["ValueError", "", "builtins.", 42, [ValueError, object]])
def test_a_rule_whose_exception_is_not_a_class_or_dotted_path_is_a_definition_error(spec: object) -> None:
    with pytest.raises(DagDefinitionError, match="RetryRule"):
        RetryRule(exception=spec)  # type: ignore[arg-type]


def test_a_policy_that_raises_or_answers_nonsense_leaves_the_decision_to_the_retry_settings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(RetryPolicy):
        def evaluate(
            self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
        ) -> Any:
            raise RuntimeError("policy bug")

    class Nonsense(RetryPolicy):
        def evaluate(
            self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
        ) -> Any:
            return "retry"

    def consult(policy: object) -> RetryDecision | None:
        return consult_policy(policy, ValueError(), try_number=1, max_tries=2, context=None, log=log)

    assert consult(None) is None
    with caplog.at_level(logging.INFO):
        assert consult(Broken()) is None
        assert consult(Nonsense()) is None
        decision = consult(ExceptionRetryPolicy(rules=[RetryRule(exception=ValueError, reason="why")]))
    assert decision == RetryDecision(RetryAction.RETRY, reason="why")
    assert "the retry policy failed" in caplog.text
    assert "Retry policy decision: retry (why)" in caplog.text


def test_fail_ends_the_try_failed_even_with_retries_left() -> None:
    end = failed_try_end(TASK, try_number=1, max_tries=5, now=NOW, decision=RetryDecision.fail("auth"))
    assert (end.state, end.next_retry_at, end.policy_reason) == (TaskInstanceState.FAILED, None, "auth")


def test_retry_uses_the_rule_delay_and_otherwise_the_task_delay() -> None:
    ruled = RetryDecision.retry(timedelta(minutes=5), reason="rate limit")
    end = failed_try_end(TASK, try_number=1, max_tries=2, now=NOW, decision=ruled)
    assert (end.state, end.next_retry_at, end.policy_reason) == (
        TaskInstanceState.UP_FOR_RETRY,
        NOW + timedelta(minutes=5),
        "rate limit",
    )
    plain = failed_try_end(TASK, try_number=1, max_tries=2, now=NOW, decision=RetryDecision.retry())
    assert plain.next_retry_at == NOW + timedelta(seconds=60)


def test_retry_never_adds_tries_and_default_falls_through_to_the_retry_settings() -> None:
    used_up = failed_try_end(
        TASK, try_number=3, max_tries=2, now=NOW, decision=RetryDecision.retry(reason="x")
    )
    assert (used_up.state, used_up.policy_reason) == (TaskInstanceState.FAILED, None)
    for decision in (None, RetryDecision.default()):
        end = failed_try_end(TASK, try_number=2, max_tries=2, now=NOW, decision=decision)
        assert (end.state, end.next_retry_at) == (TaskInstanceState.UP_FOR_RETRY, NOW + timedelta(seconds=60))
        assert (
            failed_try_end(TASK, try_number=3, max_tries=2, now=NOW, decision=decision).state
            is TaskInstanceState.FAILED
        )


def test_retry_policy_is_an_operator_and_task_argument_checked_at_definition() -> None:
    policy = ExceptionRetryPolicy(rules=[RetryRule(exception=ValueError)])
    with DAG("policies", schedule=None) as dag:
        op = BaseOperator(task_id="op", retry_policy=policy)

        @task(retries=2, retry_policy=policy)
        def work() -> None: ...

        work()
        with pytest.raises(DagDefinitionError, match="retry_policy must be a RetryPolicy"):
            BaseOperator(task_id="bad", retry_policy="retry")  # type: ignore[arg-type]
    assert op.retry_policy is policy
    assert dag.get_task("work").retry_policy is policy


def test_retry_policy_comes_from_default_args_and_reaches_mapped_instances() -> None:
    shared = ExceptionRetryPolicy(rules=[RetryRule(exception=ValueError)])
    own = ExceptionRetryPolicy(rules=[RetryRule(exception=KeyError)])
    with DAG("mapped_policies", schedule=None, default_args={"retry_policy": shared}) as dag:
        BaseOperator(task_id="plain")

        @task
        def each(x: int) -> None: ...

        each.expand(x=[1, 2])
        each.override(task_id="overridden", retry_policy=own).partial().expand(x=[1])

    def no_xcom(task_id: str, key: str) -> None:
        return None

    assert dag.get_task("plain").retry_policy is shared
    assert concrete_task(dag.get_task("each"), 1, no_xcom).retry_policy is shared
    assert concrete_task(dag.get_task("overridden"), 0, no_xcom).retry_policy is own
