"""What travels to a worker and back: the try's Celery id, the workload check, states read as events."""

from __future__ import annotations

import pytest
from celery import states

from tradewind.core.events import TryProcessEvent
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.executors.celery.outcomes import SENT, event_for_state
from tradewind.executors.celery.task_ids import celery_task_id
from tradewind.executors.celery.worker_task import parse_workload
from tradewind.sdk.errors import ExecutorError

KEY = TaskTryKey(TaskInstanceKey("d", "r", "t", -1), 1)


def test_the_celery_id_is_stable_per_try_and_differs_between_tries() -> None:
    assert celery_task_id(KEY) == celery_task_id(TaskTryKey(TaskInstanceKey("d", "r", "t", -1), 1))
    others = [
        TaskTryKey(TaskInstanceKey("d", "r", "t", -1), 2),
        TaskTryKey(TaskInstanceKey("d", "r", "t", 0), 1),
        TaskTryKey(TaskInstanceKey("d", "r2", "t", -1), 1),
        TaskTryKey(TaskInstanceKey("d2", "r", "t", -1), 1),
        # Joining the fields naively would make these two equal.
        TaskTryKey(TaskInstanceKey("d", "r.t", "x", -1), 1),
        TaskTryKey(TaskInstanceKey("d", "r", "t.x", -1), 1),
    ]
    ids = {celery_task_id(k) for k in [KEY, *others]}
    assert len(ids) == len(others) + 1


def test_a_workload_round_trips_through_json() -> None:
    workload = ExecuteTask(dag_id="d", task_id="t", run_id="r", map_index=2, try_number=3, queue="q",
                           dag_rel_path="sub/d.py")
    parsed = parse_workload(workload.model_dump(mode="json"))
    assert parsed == workload
    assert parsed.command(executable="tw")[:3] == ["tw", "tasks", "run"]


def test_a_bad_workload_is_refused_naming_the_field() -> None:
    with pytest.raises(ExecutorError, match="'try_number'"):
        parse_workload({"dag_id": "d", "task_id": "t", "run_id": "r", "try_number": "many"})
    with pytest.raises(ExecutorError, match="newer than this worker"):
        parse_workload({"version": 99, "dag_id": "d", "task_id": "t", "run_id": "r"})
    with pytest.raises(ExecutorError, match="JSON object"):
        parse_workload(["d", "t", "r"])


@pytest.mark.parametrize(
    ("status", "result", "kind", "reason"),
    [
        (states.STARTED, None, TryProcessEvent.STARTED, None),
        (states.SUCCESS, 0, TryProcessEvent.EXITED_CLEANLY, None),
        (states.SUCCESS, 1, TryProcessEvent.FAILED, "exited with code 1"),
        (states.SUCCESS, -9, TryProcessEvent.FAILED, "killed by SIGKILL"),
        (states.FAILURE, ExecutorError("boom"), TryProcessEvent.FAILED, "ExecutorError: boom"),
        (states.REVOKED, None, TryProcessEvent.FAILED, "revoked"),
    ],
)
def test_celery_states_read_as_events(status: str, result: object, kind: TryProcessEvent,
                                      reason: str | None) -> None:
    event = event_for_state(KEY, "cid", status, result)
    assert event is not None
    assert (event.key, event.kind, event.external_id) == (KEY, kind, "cid")
    assert (event.reason is None) if reason is None else (reason in (event.reason or ""))


@pytest.mark.parametrize("status", [states.PENDING, SENT, states.RECEIVED, states.RETRY])
def test_states_before_start_say_nothing(status: str) -> None:
    assert event_for_state(KEY, "cid", status, None) is None
