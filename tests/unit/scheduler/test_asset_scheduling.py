"""DAGs scheduled on assets: a producer's success queues events, and the scheduler creates the consumer's
run when its condition (a list, ``a & b``, ``a | b``, an alias, AssetOrTimeSchedule) holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import START, make_dag
from tradewind.actions.asset_events import create_asset_event
from tradewind.api.auth.authentication import Principal
from tradewind.core.clock import FrozenClock
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunType, TaskInstanceState
from tradewind.execution.db_runtime import DbRuntime
from tradewind.execution.models import ClaimedTry, TryEnded, TryReport
from tradewind.execution.try_state import TryState
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.asset_events import OutletEventAccessors, produced_events
from tradewind.sdk.assets import Asset, AssetAlias, BaseAsset
from tradewind.sdk.schedules import timetable_from_schedule, timetable_to_dict
from tradewind.sdk.timetables.assets import AssetOrTimeSchedule
from tradewind.sdk.timetables.trigger import CronTriggerTimetable
from tradewind.store import asset_queue, assets, dag_runs, dags, task_instances
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run

A = Asset("s3://bucket/a")
B = Asset("s3://bucket/b")


def producer(dag_id: str, outlets: list[BaseAsset]) -> SerializedDag:
    return make_dag(dag_id, {"produce": []},
                    tasks={"produce": {"outlets": [o.to_condition() for o in outlets]}})  # fmt: skip


def consumer(dag_id: str, schedule: object) -> SerializedDag:
    return make_dag(dag_id, {"consume": []}, timetable=timetable_to_dict(timetable_from_schedule(schedule)))


def store(sessions: sessionmaker[Session], *sdags: SerializedDag, paused: bool = False) -> None:
    """What the DAG processor does: store the DAGs and the assets they name."""
    with transaction(sessions) as session:
        for sdag in sdags:
            dags.upsert_dag(session=session, sdag=sdag, paused_default=paused, now=START)
        assets.sync_dag_references(session=session, sdags=list(sdags), now=START)


def produce(
    sessions: sessionmaker[Session], dag_id: str, outlets: list[BaseAsset], *, now: Any = START,
    outlet_events: OutletEventAccessors | None = None,
) -> str:  # fmt: skip
    """A manual run of the producer whose one task succeeds through the runner's TryState."""
    with transaction(sessions) as session:
        run_id = trigger_run(
            session=session, dag_id=dag_id, now=now, run_id=f"manual__{now.isoformat()}"
        ).run_id
        key = TaskInstanceKey(dag_id, run_id, "produce")
        ti = task_instances.get_task_instance(session=session, key=key)
        ti.state, ti.try_number = TaskInstanceState.QUEUED.value, 1
    state = TryState(sessions, key, 1)
    claim = state.claim(now=now, hostname="test", pid=1)
    assert isinstance(claim, ClaimedTry)
    events = produced_events(outlets, outlet_events)
    assert isinstance(state.finish(TryReport(outcome="success", asset_events=events), now=now), TryEnded)
    return run_id


def asset_runs(sessions: sessionmaker[Session], dag_id: str) -> list[tuple[int, str]]:
    with sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id=dag_id, run_type=DagRunType.ASSET_TRIGGERED)
        return [(r.id, r.run_id) for r in runs]


def consumed(sessions: sessionmaker[Session], run_pk: int) -> list[dict[str, Any]]:
    with sessions() as session:
        return asset_queue.consumed_events(session=session, dag_run_ids=[run_pk])[run_pk]


def test_a_producers_success_queues_an_event_and_the_consumer_run_consumes_it(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, producer("producer", [A]), consumer("consumer", [A]))
    outlet_events = OutletEventAccessors()
    outlet_events[A].extra = {"rows": 42}
    source_run = produce(sessions, "producer", [A], outlet_events=outlet_events)
    with sessions() as session:
        [event] = asset_queue.queued_events(session=session, dag_id="consumer")
        assert event.extra == {"rows": 42} and event.source_task_id == "produce"

    scheduler.tick(clock.now())
    [(run_pk, run_id)] = asset_runs(sessions, "consumer")
    assert run_id.startswith("asset_triggered__")
    [seen] = consumed(sessions, run_pk)
    assert (seen["uri"], seen["extra"], seen["source_dag_id"], seen["source_run_id"]) == (
        "s3://bucket/a", {"rows": 42}, "producer", source_run,
    )  # fmt: skip
    with sessions() as session:
        assert asset_queue.queued_events(session=session, dag_id="consumer") == []

    clock.advance(timedelta(minutes=1))
    scheduler.tick(clock.now())
    assert len(asset_runs(sessions, "consumer")) == 1  # nothing new was produced


def test_all_of_two_assets_waits_for_both(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, producer("pa", [A]), producer("pb", [B]), consumer("both", A & B),
          consumer("listed", [A, B]))  # fmt: skip
    produce(sessions, "pa", [A])
    produce(sessions, "pa", [A], now=START + timedelta(seconds=1))
    scheduler.tick(clock.now())
    assert asset_runs(sessions, "both") == [] and asset_runs(sessions, "listed") == []

    clock.advance(timedelta(minutes=1))
    produce(sessions, "pb", [B], now=clock.now())
    scheduler.tick(clock.now())
    for dag_id in ("both", "listed"):
        [(run_pk, _)] = asset_runs(sessions, dag_id)
        assert sorted(e["uri"] for e in consumed(sessions, run_pk)) == [
            "s3://bucket/a", "s3://bucket/a", "s3://bucket/b",
        ]  # fmt: skip


def test_any_of_two_assets_runs_on_either(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, producer("pa", [A]), producer("pb", [B]), consumer("either", A | B))
    produce(sessions, "pa", [A])
    scheduler.tick(clock.now())
    clock.advance(timedelta(minutes=1))
    produce(sessions, "pb", [B], now=clock.now())
    scheduler.tick(clock.now())
    runs = asset_runs(sessions, "either")
    assert len(runs) == 2
    assert sorted(consumed(sessions, pk)[0]["uri"] for pk, _ in runs) == ["s3://bucket/a", "s3://bucket/b"]


def test_an_event_added_through_an_alias_triggers_dags_on_the_alias_and_on_the_asset(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    alias = AssetAlias("example-alias")
    target = Asset("s3://bucket/my-task")
    store(
        sessions,
        producer("via_alias", [alias]),
        consumer("on_alias", [alias]),
        consumer("on_asset", [target]),
    )
    outlet_events = OutletEventAccessors()
    outlet_events[alias].add(target, extra={"from": "alias"})
    produce(sessions, "via_alias", [alias], outlet_events=outlet_events)
    scheduler.tick(clock.now())

    for dag_id in ("on_alias", "on_asset"):
        [(run_pk, _)] = asset_runs(sessions, dag_id)
        [event] = consumed(sessions, run_pk)
        assert (event["uri"], event["extra"], event["source_alias_name"]) == (
            "s3://bucket/my-task", {"from": "alias"}, "example-alias",
        )  # fmt: skip
    # What inlet_events[alias] reads in the runner: the events added through that alias.
    runtime = DbRuntime(sessions)
    assert [e["extra"] for e in runtime.asset_events(alias="example-alias")] == [{"from": "alias"}]
    assert runtime.asset_events(alias="another-alias") == []
    assert len(runtime.asset_events(uri="s3://bucket/my-task")) == 1


def test_asset_or_time_schedule_runs_on_its_timetable_and_on_asset_events(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    schedule = AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * *", timezone="UTC"), assets=A & B)
    sdag = consumer("mixed", schedule)
    sdag.start_date, sdag.catchup = START, False
    store(sessions, producer("pa", [A]), producer("pb", [B]), sdag)

    clock.advance(timedelta(hours=1))  # 01:00: the cron tick
    scheduler.tick(clock.now())
    with sessions() as session:
        scheduled, _ = dag_runs.list_dag_runs(session=session, dag_id="mixed", run_type=DagRunType.SCHEDULED)
    assert len(scheduled) == 1
    assert asset_runs(sessions, "mixed") == []

    produce(sessions, "pa", [A], now=clock.now())
    produce(sessions, "pb", [B], now=clock.now() + timedelta(seconds=1))
    clock.advance(timedelta(minutes=1))
    scheduler.tick(clock.now())
    [(run_pk, _)] = asset_runs(sessions, "mixed")
    assert len(consumed(sessions, run_pk)) == 2


def test_an_event_created_through_the_api_triggers_a_consumer(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, consumer("external", [A]))
    with sessions() as session:
        asset = assets.find_asset(session=session, uri="s3://bucket/a")
        assert asset is not None
    principal = Principal(user_id=1, username="ops", role="op", via="basic")
    create_asset_event(sessions, principal, asset_id=asset.id, extra={"by": "partner"})
    scheduler.tick(clock.now())
    [(run_pk, _)] = asset_runs(sessions, "external")
    [event] = consumed(sessions, run_pk)
    assert event["extra"] == {"by": "partner"} and event["source_dag_id"] is None


def test_a_paused_consumer_does_not_collect_events(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, producer("pa", [A]))
    store(sessions, consumer("paused", [A]), paused=True)
    produce(sessions, "pa", [A])
    with transaction(sessions) as session:
        dags.set_paused(session=session, dag_id="paused", is_paused=False)
    scheduler.tick(clock.now())
    assert asset_runs(sessions, "paused") == []


def test_a_deleted_consumer_that_comes_back_does_not_run_on_events_queued_before(
    sessions: sessionmaker[Session], scheduler: Scheduler, clock: FrozenClock
) -> None:
    store(sessions, producer("pd", [A]), consumer("gone", [A]))
    produce(sessions, "pd", [A])
    with transaction(sessions) as session:
        assert len(asset_queue.queued_events(session=session, dag_id="gone")) == 1
        dags.delete_dag(session=session, dag_id="gone")
        assert asset_queue.queued_events(session=session, dag_id="gone") == []
    store(sessions, consumer("gone", [A]))  # the file defines it again
    scheduler.tick(clock.now())
    assert asset_runs(sessions, "gone") == []
    produce(sessions, "pd", [A], now=START + timedelta(minutes=5))
    scheduler.tick(clock.now())
    assert len(asset_runs(sessions, "gone")) == 1
