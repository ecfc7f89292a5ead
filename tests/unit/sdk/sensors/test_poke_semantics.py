"""BaseSensorOperator's meaning: pokes, timeout, soft_fail, silent_fail, backoff bounds, reschedule mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind import DAG
from tradewind.sdk.context import build_context
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError, SensorTimeout, TaskRescheduled, TaskSkipped
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime
from tradewind.sdk.sensors.base import BaseSensorOperator, PokeReturnValue
from tradewind.sdk.sensors.python import PythonSensor

LOGICAL = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def runtime() -> Iterator[InMemoryRuntime]:
    rt = InMemoryRuntime()
    with use_runtime(rt):
        yield rt


def context_for(op: Any, try_number: int = 1) -> dict[str, Any]:
    return dict(build_context(task=op, run_id="r1", logical_date=LOGICAL, try_number=try_number))


class Countdown(BaseSensorOperator):
    """Done on the n-th poke."""

    def __init__(self, *, done_after: int, value: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.done_after = done_after
        self.value = value
        self.pokes = 0

    def poke(self, context: Any) -> bool | PokeReturnValue:
        self.pokes += 1
        return PokeReturnValue(self.pokes >= self.done_after, self.value)


class Raising(BaseSensorOperator):
    def __init__(self, *, fail_times: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_times = fail_times
        self.pokes = 0

    def poke(self, context: Any) -> bool:
        self.pokes += 1
        if self.pokes <= self.fail_times:
            raise ValueError("the partner's API is down")
        return True


def test_pokes_until_done_and_returns_the_xcom_value(runtime: InMemoryRuntime) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = Countdown(task_id="s", done_after=3, value={"rows": 7}, poke_interval=0)
    assert op.execute(context_for(op)) == {"rows": 7}
    assert op.pokes == 3


def test_timeout_fails_without_retry_and_soft_fail_skips(runtime: InMemoryRuntime) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        hard = Countdown(task_id="hard", done_after=10**9, poke_interval=0.01, timeout=0.05)
        soft = Countdown(task_id="soft", done_after=10**9, poke_interval=0.01, timeout=0.05, soft_fail=True)
    with pytest.raises(SensorTimeout, match="timed out"):
        hard.execute(context_for(hard))
    with pytest.raises(TaskSkipped, match="timed out"):
        soft.execute(context_for(soft))


def test_timeout_is_not_overslept_by_a_long_poke_interval(runtime: InMemoryRuntime) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = Countdown(task_id="s", done_after=10**9, poke_interval=60, timeout=0.2, soft_fail=True)
    started = datetime.now(UTC)
    with pytest.raises(TaskSkipped):
        op.execute(context_for(op))
    assert datetime.now(UTC) - started < timedelta(seconds=5)


def test_silent_fail_keeps_poking_and_never_fail_skips(runtime: InMemoryRuntime) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        silent = Raising(task_id="silent", fail_times=2, poke_interval=0, silent_fail=True)
        loud = Raising(task_id="loud", fail_times=2, poke_interval=0)
        never = Raising(task_id="never", fail_times=2, poke_interval=0, never_fail=True)
    assert silent.execute(context_for(silent)) is None
    assert silent.pokes == 3
    with pytest.raises(ValueError, match="API is down"):
        loud.execute(context_for(loud))
    with pytest.raises(TaskSkipped, match="never_fail"):
        never.execute(context_for(never))


def test_exponential_backoff_is_bounded_by_max_wait_and_the_timeout() -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = Countdown(task_id="s", done_after=1, poke_interval=5, exponential_backoff=True, timeout=1000)
        capped = Countdown(task_id="c", done_after=1, poke_interval=5, exponential_backoff=True,
                           max_wait=timedelta(seconds=30), timeout=1000)  # fmt: skip
        plain = Countdown(task_id="p", done_after=1, poke_interval=5, timeout=1000)
    assert [op.next_poke_interval(n, 0) for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert [capped.next_poke_interval(n, 0) for n in range(1, 6)] == [5, 10, 20, 30, 30]
    assert op.next_poke_interval(10, elapsed=990) == 10  # never past the timeout
    assert op.next_poke_interval(200, elapsed=0) == 1000  # no overflow, bounded
    assert plain.next_poke_interval(7, 0) == 5


def test_reschedule_mode_ends_the_try_with_the_next_poke_time(runtime: InMemoryRuntime) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = Countdown(task_id="s", done_after=2, poke_interval=30, mode="reschedule")
    before = datetime.now(UTC)
    with pytest.raises(TaskRescheduled) as caught:
        op.execute(context_for(op))
    assert op.pokes == 1
    assert before + timedelta(seconds=29) < caught.value.reschedule_date < before + timedelta(seconds=40)


def test_reschedule_timeout_counts_from_the_first_poke_of_the_try(runtime: InMemoryRuntime) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = Countdown(task_id="s", done_after=10**9, poke_interval=30, timeout=3600, mode="reschedule")
        soft = Countdown(task_id="soft", done_after=10**9, poke_interval=30, timeout=3600, mode="reschedule",
                         soft_fail=True)  # fmt: skip
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    runtime.reschedules[("d", "r1", "s", -1, 2)] = [long_ago, long_ago + timedelta(minutes=1)]
    runtime.reschedules[("d", "r1", "soft", -1, 2)] = [long_ago]
    with pytest.raises(SensorTimeout):
        op.execute(context_for(op, try_number=2))
    with pytest.raises(TaskSkipped):
        soft.execute(context_for(soft, try_number=2))
    # The reschedules of an earlier try do not count for a new try.
    with pytest.raises(TaskRescheduled):
        op.execute(context_for(op, try_number=3))


def test_deferrable_runs_in_reschedule_mode_and_says_so(
    runtime: InMemoryRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = Countdown(task_id="s", done_after=2, deferrable=True)
    assert op.mode == "reschedule"
    with pytest.raises(TaskRescheduled):
        op.execute(context_for(op))
    assert "no trigger to wait on" in capsys.readouterr().out


def test_invalid_arguments_fail_the_dag_file() -> None:
    with DAG("d", schedule=None, start_date=LOGICAL):
        with pytest.raises(DagDefinitionError, match="mode"):
            Countdown(task_id="a", done_after=1, mode="sometimes")
        with pytest.raises(DagDefinitionError, match="poke_interval"):
            Countdown(task_id="b", done_after=1, poke_interval=-1)
        with pytest.raises(DagDefinitionError, match="soft_fail and never_fail"):
            Countdown(task_id="c", done_after=1, soft_fail=True, never_fail=True)


def test_task_sensor_decorator_pushes_the_poke_return_value(runtime: InMemoryRuntime) -> None:
    calls = []

    with DAG("d", schedule=None, start_date=LOGICAL) as dag:

        @task.sensor(poke_interval=0, timeout=10, mode="poke")
        def wait_for_upstream(table: str) -> PokeReturnValue:
            calls.append(table)
            return PokeReturnValue(is_done=len(calls) >= 2, xcom_value=f"{table} ready")

        wait_for_upstream("orders")

    op = dag.get_task("wait_for_upstream")
    assert isinstance(op, PythonSensor)
    context = context_for(op)
    op.render_template_fields(context)
    assert op.execute(context) == "orders ready"
    assert calls == ["orders", "orders"]


def test_python_sensor_false_then_true(runtime: InMemoryRuntime) -> None:
    answers = iter([False, 0, "yes"])
    with DAG("d", schedule=None, start_date=LOGICAL):
        op = PythonSensor(task_id="p", python_callable=lambda: next(answers), poke_interval=0)
    assert op.execute(context_for(op)) is None
