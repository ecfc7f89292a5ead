"""How the runner executes a deferring task and a resuming one: TaskDeferred becomes a stored deferral
(trigger serialized to tagged JSON), a trigger that cannot be stored fails the try, and a resumed try calls
resume_execution with the event after rendering the templates again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.runner.execution import Ending, Resume, execute_task
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.triggers.temporal import DateTimeTrigger

MOMENT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
log = logging.getLogger("test")


class Deferring(BaseOperator):
    template_fields = ("note",)

    def __init__(self, *, note: str = "", bad: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.note = note
        self.bad = bad

    def execute(self, context: Any) -> None:
        kwargs = {"since": MOMENT, "bad": object()} if self.bad else {"since": MOMENT}
        self.defer(
            trigger=DateTimeTrigger(MOMENT), method_name="resume", kwargs=kwargs, timeout=timedelta(hours=1)
        )

    def resume(self, context: Any, event: Any = None, since: Any = None) -> str:
        return f"{self.note} {event.isoformat()} {since.isoformat()}"


def _context(task: BaseOperator) -> dict[str, Any]:
    DAG(f"dag_{id(task)}", schedule=None, start_date=MOMENT).add_task(task)
    return dict(build_context(task=task, run_id="r", logical_date=MOMENT, try_number=1))


def test_a_deferring_task_ends_deferred_with_its_trigger_serialized() -> None:
    task = Deferring(task_id="d", note="{{ run_id }}")
    pushed: list[tuple[str, Any]] = []
    result = execute_task(task, _context(task), push_xcom=lambda k, v: pushed.append((k, v)), log=log)
    assert result.ending is Ending.DEFERRED and pushed == []
    deferral = result.deferral
    assert deferral is not None
    tagged = {"__tradewind_type__": "datetime", "value": MOMENT.isoformat()}
    assert deferral.classpath == "tradewind.sdk.triggers.temporal.DateTimeTrigger"
    assert deferral.kwargs == {"moment": tagged, "end_from_trigger": False}
    assert (deferral.next_method, deferral.next_kwargs, deferral.timeout_seconds) == (
        "resume", {"since": tagged}, 3600.0,
    )  # fmt: skip
    assert result.rendered_fields == {"note": "r"}


def test_a_trigger_that_cannot_be_stored_fails_the_try() -> None:
    task = Deferring(task_id="d", bad=True)
    result = execute_task(task, _context(task), push_xcom=lambda k, v: None, log=log)
    assert result.ending is Ending.FAILED
    assert result.reason is not None and "cannot be stored" in result.reason


def test_a_resumed_try_calls_the_method_with_the_event_and_pushes_its_result() -> None:
    task = Deferring(task_id="d", note="{{ run_id }}")
    pushed: list[tuple[str, Any]] = []
    resume = Resume("resume", {"since": MOMENT, "event": MOMENT + timedelta(days=1)})
    result = execute_task(
        task, _context(task), push_xcom=lambda k, v: pushed.append((k, v)), log=log, resume=resume
    )
    assert result.ending is Ending.SUCCESS, result.reason
    assert pushed == [("return_value", f"r {(MOMENT + timedelta(days=1)).isoformat()} {MOMENT.isoformat()}")]


def test_a_try_resumed_to_fail_fails_with_the_trigger_error() -> None:
    task = Deferring(task_id="d")
    resume = Resume("__fail__", {"error": "Trigger failure", "traceback": ["RuntimeError: no\n"]})
    result = execute_task(task, _context(task), push_xcom=lambda k, v: None, log=log, resume=resume)
    assert result.ending is Ending.FAILED
    assert result.reason == "TaskDeferralError: Trigger failure"
