"""BaseOperator: settings, default_args precedence, validation messages, dependencies and priority."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.chain import chain, chain_linear, cross_downstream
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.taskgroup import TaskGroup
from tradewind.sdk.trigger_rule import TriggerRule
from tradewind.sdk.xcom_arg import XComArg


class GreetOperator(BaseOperator):
    template_fields = ("name",)

    def __init__(self, *, name: str, greeting: str = "hello", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.greeting = greeting

    def execute(self, context: Mapping[str, Any]) -> str:
        return f"{self.greeting} {self.name}"


def test_defaults_match_airflow() -> None:
    op = EmptyOperator(task_id="t")
    # retries None: unset, so the deployment's core.default_task_retries (default 0) applies, as in Airflow.
    assert (op.owner, op.retries, op.retry_delay, op.trigger_rule) == (
        "tradewind",
        None,
        timedelta(seconds=300),
        "all_success",
    )
    assert (op.pool, op.pool_slots, op.priority_weight, op.weight_rule) == (
        "default_pool",
        1,
        1,
        "downstream",
    )
    assert (op.queue, op.depends_on_past, op.do_xcom_push, op.execution_timeout) == (
        "default",
        False,
        True,
        None,
    )


def test_dag_default_args_apply_and_explicit_arguments_win() -> None:
    with DAG("d", default_args={"retries": 3, "owner": "ana", "name": "from-defaults", "unknown_key": 1}):
        a = GreetOperator(task_id="a")  # type: ignore[call-arg]  # name comes from default_args
        b = GreetOperator(task_id="b", retries=0, name="explicit")
    assert (a.retries, a.owner, a.name) == (3, "ana", "from-defaults")
    assert (b.retries, b.owner, b.name) == (0, "ana", "explicit")


def test_group_default_args_override_the_dags_and_nest() -> None:
    with DAG("d", default_args={"retries": 1, "queue": "q-dag"}):
        with (
            TaskGroup("outer", default_args={"retries": 2}),
            TaskGroup("inner", default_args={"queue": "q-in"}),
        ):
            inner = EmptyOperator(task_id="t")
        top = EmptyOperator(task_id="top")
    assert (inner.retries, inner.queue) == (2, "q-in")
    assert (top.retries, top.queue) == (1, "q-dag")


def test_operator_default_args_merge_over_the_dags() -> None:
    with DAG("d", default_args={"retries": 1, "owner": "ana"}):
        op = EmptyOperator(task_id="t", default_args={"retries": 5})
    assert (op.retries, op.owner) == (5, "ana")


def test_default_args_params_merge_with_task_params() -> None:
    with DAG("d", default_args={"params": {"a": 1, "b": 2}}):
        op = EmptyOperator(task_id="t", params={"b": 3})
    assert op.params == {"a": 1, "b": 3}


def test_durations_accept_seconds() -> None:
    op = EmptyOperator(task_id="t", retry_delay=30, execution_timeout=2.5, max_retry_delay=timedelta(hours=1))
    assert op.retry_delay == timedelta(seconds=30)
    assert op.execution_timeout == timedelta(seconds=2.5)
    assert op.max_retry_delay == timedelta(hours=1)


def test_an_invalid_trigger_rule_names_the_dag_and_task() -> None:
    with (
        DAG("d"),
        pytest.raises(DagDefinitionError, match="task 't' in DAG 'd': invalid trigger_rule 'sometimes'"),
    ):
        EmptyOperator(task_id="t", trigger_rule="sometimes")
    op = EmptyOperator(task_id="ok", trigger_rule=TriggerRule.ONE_FAILED)
    assert op.trigger_rule == "one_failed"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight_rule": "sideways"}, "weight_rule"),
        ({"pool_slots": 0}, "pool_slots"),
        ({"retries": -1}, "retries"),
        ({"task_id": "bad id"}, "task_id"),
        ({"retry_delay": "5m"}, "retry_delay"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        EmptyOperator(**{"task_id": "t", **kwargs})


def test_unknown_and_missing_arguments_name_the_operator_and_task() -> None:
    with pytest.raises(
        DagDefinitionError, match=r"BashOperator\(task_id='t'\) got invalid argument\(s\): bash_cmd"
    ):
        BashOperator(task_id="t", bash_command="x", bash_cmd="y")
    with pytest.raises(
        DagDefinitionError,
        match=r"BashOperator\(task_id='t'\) is missing required argument\(s\): bash_command",
    ):
        BashOperator(task_id="t")  # type: ignore[call-arg]
    with pytest.raises(DagDefinitionError, match="pass operator arguments by keyword"):
        EmptyOperator("t")  # type: ignore[call-arg]


def test_shift_operators_with_tasks_lists_and_reverse() -> None:
    with DAG("d"):
        a, b, c, d = (EmptyOperator(task_id=x) for x in "abcd")
        result = a >> [b, c]
        [b, c] >> d
    assert result == [b, c]
    assert a.downstream_task_ids == {"b", "c"}
    assert d.upstream_task_ids == {"b", "c"}
    with DAG("e"):
        x, y, z = (EmptyOperator(task_id=n) for n in "xyz")
        z << y << x
        [x] << z
    assert y.upstream_task_ids == {"x"} and z.upstream_task_ids == {"y"}
    assert x.upstream_task_ids == {"z"}


def test_set_upstream_and_set_downstream() -> None:
    with DAG("d"):
        a, b, c = (EmptyOperator(task_id=x) for x in "abc")
        b.set_upstream(a)
        b.set_downstream([c])
    assert [t.task_id for t in b.upstream_list] == ["a"]
    assert [t.task_id for t in b.downstream_list] == ["c"]
    assert a.get_flat_relative_ids() == {"b", "c"}
    assert c.get_flat_relative_ids(upstream=True) == {"a", "b"}


def test_shift_with_something_else_is_a_clear_type_error() -> None:
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        with pytest.raises(TypeError, match="dependencies can be set only between tasks"):
            a >> "b"


def test_output_is_an_xcomarg_that_wires_dependencies() -> None:
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        b = GreetOperator(task_id="b", name=a.output)  # type: ignore[arg-type]
    assert isinstance(a.output, XComArg)
    assert b.upstream_task_ids == {"a"}


def test_priority_weight_total_follows_the_weight_rule() -> None:
    with DAG("d"):
        a = EmptyOperator(task_id="a", priority_weight=1)
        b = EmptyOperator(task_id="b", priority_weight=10)
        c = EmptyOperator(task_id="c", priority_weight=100)
        up = EmptyOperator(task_id="up", priority_weight=5, weight_rule="upstream")
        ab = EmptyOperator(task_id="abs", priority_weight=7, weight_rule="absolute")
        a >> b >> c >> up
        a >> ab
    assert a.priority_weight_total == 1 + 10 + 100 + 5 + 7
    assert c.priority_weight_total == 105
    assert up.priority_weight_total == 5 + 1 + 10 + 100
    assert ab.priority_weight_total == 7


def test_chain_pairs_lists_of_equal_length() -> None:
    with DAG("d"):
        a, b, c, d, e, f = (EmptyOperator(task_id=x) for x in "abcdef")
        chain(a, [b, c], [d, e], f)
    assert a.downstream_task_ids == {"b", "c"}
    assert b.downstream_task_ids == {"d"} and c.downstream_task_ids == {"e"}
    assert f.upstream_task_ids == {"d", "e"}


def test_chain_refuses_lists_of_different_lengths() -> None:
    with DAG("d"):
        a, b, c = (EmptyOperator(task_id=x) for x in "abc")
        with pytest.raises(ValueError, match="different lengths"):
            chain([a, b], [c])


def test_cross_downstream_connects_every_pair() -> None:
    with DAG("d"):
        a, b, c, d = (EmptyOperator(task_id=x) for x in "abcd")
        cross_downstream([a, b], [c, d])
    assert a.downstream_task_ids == b.downstream_task_ids == {"c", "d"}


def test_chain_linear_connects_each_element_to_all_of_the_next() -> None:
    with DAG("d"):
        a, b, c, d, e, f = (EmptyOperator(task_id=x) for x in "abcdef")
        chain_linear(a, [b, c], [d, e], f)
    assert a.downstream_task_ids == {"b", "c"}
    assert b.downstream_task_ids == c.downstream_task_ids == {"d", "e"}
    assert f.upstream_task_ids == {"d", "e"}
    with pytest.raises(ValueError, match="at least two"):
        chain_linear(a)


def test_callbacks_are_kept() -> None:
    def notify(context: Any) -> None:
        pass

    op = EmptyOperator(task_id="t", on_failure_callback=notify, on_retry_callback=[notify])
    assert op.has_callback("on_failure_callback") and op.has_callback("on_retry_callback")
    assert not op.has_callback("on_success_callback")


def test_execute_of_a_custom_operator() -> None:
    assert GreetOperator(task_id="g", name="ana").execute({}) == "hello ana"
    with pytest.raises(NotImplementedError):
        BaseOperator(task_id="base").execute({})
