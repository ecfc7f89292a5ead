"""Stored triggers: claims shared by triggerers (a dead one's taken over), exactly-once firing, failures,
timeouts and the cleanup of triggers nobody waits on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests.unit.store.conftest import NOW, MakeRun

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import TaskInstanceState
from tradewind.store import task_instances, triggers
from tradewind.store.tables import TaskInstanceModel, TriggerModel


def _deferred(
    session: Session, make_run: MakeRun, *, timeout: timedelta | None = None
) -> tuple[TaskInstanceKey, int]:
    run = make_run()
    key = TaskInstanceKey(run.dag_id, run.run_id, "extract")
    trigger_id = triggers.create_trigger(
        session=session, classpath="tradewind.sdk.triggers.temporal.DateTimeTrigger", kwargs={"a": 1}, now=NOW
    )
    session.execute(
        update(TaskInstanceModel)
        .where(TaskInstanceModel.dag_id == key.dag_id, TaskInstanceModel.task_id == key.task_id)
        .values(
            state=TaskInstanceState.DEFERRED.value,
            try_number=1,
            trigger_id=trigger_id,
            next_method="done",
            next_kwargs={"k": "v"},
            trigger_timeout=NOW + timeout if timeout else None,
        )
    )
    return key, trigger_id


def test_two_triggerers_share_the_triggers_and_a_dead_ones_are_taken_over(session: Session) -> None:
    ids = [triggers.create_trigger(session=session, classpath="m.T", kwargs={}, now=NOW) for _ in range(5)]
    first = triggers.claim_triggers(session=session, triggerer_id=1, alive_triggerer_ids=[1, 2], limit=3)
    second = triggers.claim_triggers(session=session, triggerer_id=2, alive_triggerer_ids=[1, 2], limit=3)
    assert first == ids[:3] and second == ids[3:]
    # Both alive: nothing more to take.
    assert (
        triggers.claim_triggers(session=session, triggerer_id=2, alive_triggerer_ids=[1, 2], limit=10) == []
    )
    # Triggerer 1 stopped heartbeating: 2 takes its triggers over, up to its capacity.
    taken = triggers.claim_triggers(session=session, triggerer_id=2, alive_triggerer_ids=[2], limit=2)
    assert taken == ids[:2]
    assert triggers.held_trigger_ids(session=session, triggerer_id=2) == {*ids[:2], *ids[3:]}
    assert triggers.held_trigger_ids(session=session, triggerer_id=1) == {ids[2]}
    assert triggers.release_triggers(session=session, triggerer_id=2) == 4
    assert triggers.claim_triggers(session=session, triggerer_id=3, alive_triggerer_ids=[1, 3], limit=10) == [
        *ids[:2], *ids[3:]
    ]  # fmt: skip


def test_a_trigger_fires_once_and_only_for_the_triggerer_holding_it(
    session: Session, make_run: MakeRun
) -> None:
    key, trigger_id = _deferred(session, make_run)
    triggers.claim_triggers(session=session, triggerer_id=1, alive_triggerer_ids=[1], limit=10)
    # Triggerer 1 is taken for dead; 2 takes the trigger over. A late report of 1 changes nothing.
    assert triggers.claim_triggers(session=session, triggerer_id=2, alive_triggerer_ids=[2], limit=10) == [
        trigger_id
    ]
    assert (
        triggers.fire_trigger(session=session, trigger_id=trigger_id, triggerer_id=1, payload=1, now=NOW)
        is None
    )
    ti = task_instances.get_task_instance(session=session, key=key)
    assert ti.state == TaskInstanceState.DEFERRED
    assert (
        triggers.fire_trigger(session=session, trigger_id=trigger_id, triggerer_id=2, payload=[1, 2], now=NOW)
        == 1
    )
    session.refresh(ti)
    assert (ti.state, ti.trigger_id, ti.next_method, ti.next_kwargs, ti.try_number) == (
        TaskInstanceState.SCHEDULED, None, "done", {"k": "v", "event": [1, 2]}, 1,
    )  # fmt: skip
    assert session.get(TriggerModel, trigger_id) is None
    assert (
        triggers.fire_trigger(session=session, trigger_id=trigger_id, triggerer_id=2, payload=1, now=NOW)
        is None
    )


def test_a_failed_trigger_schedules_its_tasks_to_fail_with_the_traceback(
    session: Session, make_run: MakeRun
) -> None:
    key, trigger_id = _deferred(session, make_run)
    triggers.claim_triggers(session=session, triggerer_id=1, alive_triggerer_ids=[1], limit=10)
    lines = ["Traceback (most recent call last):\n", "RuntimeError: no\n"]
    assert (
        triggers.fail_trigger(
            session=session, trigger_id=trigger_id, triggerer_id=1, traceback=lines, now=NOW
        )
        == 1
    )
    ti = task_instances.get_task_instance(session=session, key=key)
    assert (ti.state, ti.next_method, ti.next_kwargs) == (
        TaskInstanceState.SCHEDULED, "__fail__", {"error": "Trigger failure", "traceback": lines},
    )  # fmt: skip


def test_timeouts_and_unreferenced_triggers(session: Session, make_run: MakeRun) -> None:
    key, trigger_id = _deferred(session, make_run, timeout=timedelta(seconds=60))
    assert triggers.time_out_deferred(session=session, now=NOW + timedelta(seconds=59)) == 0
    assert triggers.delete_unreferenced(session=session) == 0
    assert triggers.time_out_deferred(session=session, now=NOW + timedelta(seconds=61)) == 1
    ti = task_instances.get_task_instance(session=session, key=key)
    session.refresh(ti)
    assert (ti.state, ti.trigger_id, ti.next_method, ti.next_kwargs) == (
        TaskInstanceState.SCHEDULED, None, "__fail__", {"error": "Trigger/execution timeout"},
    )  # fmt: skip
    assert triggers.delete_unreferenced(session=session) == 1
    assert session.scalars(select(TriggerModel.id)).all() == []
    assert trigger_id


def test_a_deleted_triggers_id_is_never_given_to_a_new_one(session: Session) -> None:
    """A triggerer taken for dead may still run an old trigger and report for its id: that id must not
    name a new trigger (SQLite would reuse the highest rowid without AUTOINCREMENT)."""
    first = triggers.create_trigger(session=session, classpath="a.B", kwargs={}, now=NOW)
    second = triggers.create_trigger(session=session, classpath="a.B", kwargs={}, now=NOW)
    triggers.delete_trigger(session=session, trigger_id=second)
    session.flush()
    third = triggers.create_trigger(session=session, classpath="a.B", kwargs={}, now=NOW)
    assert first < second < third
