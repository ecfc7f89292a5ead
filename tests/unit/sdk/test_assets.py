"""Assets as DAG files write them: identity, conditions, schedules, outlet and inlet events, @asset."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.asset_decorator import AssetDefinition
from tradewind.sdk.asset_events import OutletEventAccessors, drain_metadata, produced_events
from tradewind.sdk.assets import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    Dataset,
    Metadata,
    condition_from_dict,
    evaluate_condition,
)
from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.loading import load_dags_from_file
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.operators.python import PythonOperator
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime
from tradewind.sdk.schedules import timetable_from_dict, timetable_from_schedule, timetable_to_dict
from tradewind.sdk.timetables.assets import AssetOrTimeSchedule, AssetTriggeredTimetable
from tradewind.sdk.timetables.trigger import CronTriggerTimetable

START = datetime(2026, 1, 1, tzinfo=UTC)
A, B, C = Asset("s3://b/a"), Asset("s3://b/b"), Asset("s3://b/c")


def test_name_and_uri_default_to_each_other_and_uris_are_normalised() -> None:
    assert (Asset("s3://Bucket/key/").name, Asset("s3://Bucket/key/").uri) == (
        "s3://Bucket/key/",
        "s3://Bucket/key",
    )
    assert Asset(uri="S3://bucket/k?b=2&a=1#frag").uri == "s3://bucket/k?a=1&b=2"
    assert Asset(name="orders").uri == "orders"
    assert Dataset("s3://b/a") == A and hash(Dataset("s3://b/a")) == hash(A)
    assert Asset("x", extra={"k": 1}) != Asset("x")
    with pytest.raises(DagDefinitionError, match="reserved"):
        Asset("airflow://x")
    with pytest.raises(DagDefinitionError, match="name or a uri"):
        Asset()
    with pytest.raises(DagDefinitionError, match="reserved"):
        Asset(name="self")


def test_conditions_combine_flatten_and_evaluate() -> None:
    both, either = A & B & C, A | B | C
    assert isinstance(both, AssetAll) and len(both.objects) == 3
    assert isinstance(either, AssetAny) and len(either.objects) == 3
    nested = A | (B & C)
    stored = nested.to_condition()
    assert condition_from_dict(stored) == nested

    def updated(*assets: Asset) -> Any:
        uris = {a.uri for a in assets}
        return lambda leaf: leaf["asset"]["uri"] in uris

    assert evaluate_condition(stored, updated(A))
    assert not evaluate_condition(stored, updated(B))
    assert evaluate_condition(stored, updated(B, C))
    assert not evaluate_condition(both.to_condition(), updated(A, B))


def test_schedules_on_assets_become_asset_timetables_and_round_trip() -> None:
    listed = timetable_from_schedule([A, B])
    assert isinstance(listed, AssetTriggeredTimetable) and not listed.periodic
    assert listed.condition == (A & B).to_condition()
    assert listed.next_dagrun_info(last_automated_data_interval=None, restriction=None) is None  # type: ignore[arg-type]
    assert timetable_from_dict(timetable_to_dict(listed)) == listed
    assert timetable_from_schedule(AssetAlias("x")).summary == "Asset: alias:x"

    mixed = AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * 3", timezone="UTC"), assets=A & B)
    stored = timetable_to_dict(mixed)
    assert stored["type"] == "asset_or_time" and stored["timetable"]["type"] == "cron_trigger"
    rebuilt = timetable_from_dict(stored)
    assert isinstance(rebuilt, AssetOrTimeSchedule) and rebuilt == mixed
    assert rebuilt.summary == "Asset or 0 1 * * 3"
    with pytest.raises(DagDefinitionError, match="only assets"):
        timetable_from_schedule([A, "@daily"])


def test_serialized_dag_carries_outlets_inlets_and_the_condition() -> None:
    alias = AssetAlias("late")
    with DAG("consumer", schedule=A | alias, start_date=START) as dag:
        BashOperator(task_id="b", bash_command="true", outlets=[B], inlets=[A])
        EmptyOperator(task_id="marker", outlets=[C])
    sdag = SerializedDag.from_json(serialize_dag(dag, fileloc="/d/c.py", relative_fileloc="c.py").to_json())
    extra = sdag.get_task("b").model_extra or {}
    assert extra["outlets"] == [B.to_condition()] and extra["inlets"] == [A.to_condition()]
    # An EmptyOperator with outlets must run, so that its events are recorded.
    assert not sdag.get_task("marker").is_empty
    assert timetable_from_dict(sdag.timetable) == AssetTriggeredTimetable(A | alias)


def test_outlets_refuse_other_objects() -> None:
    with (
        DAG("bad", schedule=None),
        pytest.raises(DagDefinitionError, match=r"task 'b'.*assets and asset aliases"),
    ):
        BashOperator(task_id="b", bash_command="true", outlets=["s3://not-an-asset"])


def test_produced_events_carry_extra_and_alias_additions() -> None:
    alias = AssetAlias("a1")
    accessors = OutletEventAccessors()
    accessors[A].extra = {"rows": 1}
    accessors[alias].add(B, extra={"via": "alias"})
    accessors[A].add(C)  # add() on a plain asset does nothing, as in Airflow
    events = produced_events([A, alias, C], accessors)
    assert events == [
        {"asset": A.to_dict(), "extra": {"rows": 1}, "alias": None},
        {"asset": B.to_dict(), "extra": {"via": "alias"}, "alias": "a1"},
        {"asset": C.to_dict(), "extra": {}, "alias": None},
    ]


def test_yielded_metadata_becomes_the_extra_of_the_outlet_event() -> None:
    def body() -> Any:
        yield Metadata(A, {"hi": "bye"})
        yield Metadata(B, {"n": 2}, alias=AssetAlias("al"))
        return "done"

    accessors = OutletEventAccessors()
    assert drain_metadata(body(), accessors) == "done"
    assert accessors[A].extra == {"hi": "bye"}
    assert [(e.asset, e.extra) for e in accessors[AssetAlias("al")].alias_events] == [(B, {"n": 2})]


def test_context_offers_outlet_events_and_inlet_events_read_through_the_runtime() -> None:
    seen: dict[str, Any] = {}

    def body(outlet_events: Any, inlet_events: Any) -> None:
        outlet_events[A].extra = {"set": True}
        seen["latest"] = inlet_events[A][-1].extra
        seen["by_uri"] = len(inlet_events.for_asset(uri="s3://b/a"))

    with DAG("d", schedule=None, start_date=START):
        op = PythonOperator(task_id="p", python_callable=body, outlets=[A], inlets=[A])
    runtime = InMemoryRuntime()
    runtime.stored_asset_events = [
        {"id": i, "name": A.name, "uri": A.uri, "extra": {"i": i}, "timestamp": START.isoformat()}
        for i in (1, 2)
    ]
    context = build_context(task=op, run_id="r", logical_date=START)
    with use_runtime(runtime):
        op.execute(context)
    assert seen == {"latest": {"i": 2}, "by_uri": 2}
    assert context["outlet_events"][A].extra == {"set": True}


def test_post_execute_argument_can_set_the_extra_of_a_classic_operator() -> None:
    def annotate(context: Any, result: Any) -> None:
        context["outlet_events"][A].extra = {"hi": "bye"}

    with DAG("d", schedule=None, start_date=START):
        op = BashOperator(task_id="b", bash_command=":", outlets=[A], post_execute=annotate)
    context = build_context(task=op, run_id="r", logical_date=START)
    op.post_execute(context, None)
    assert produced_events(op.outlets, context["outlet_events"])[0]["extra"] == {"hi": "bye"}


ASSET_FILE = """
from tradewind.sdk.asset_decorator import asset
from tradewind.sdk.assets import Asset

@asset(uri="s3://bucket/raw", schedule=None)
def raw():
    pass

@asset(schedule=raw)
def cleaned(self, context, raw):
    return self.uri

@asset.multi(outlets=[Asset("s3://b/a"), Asset("s3://b/b")], schedule=None)
def both():
    pass
"""


def test_asset_decorators_make_a_dag_with_one_producing_task(tmp_path: Path) -> None:
    path = tmp_path / "assets_file.py"
    path.write_text(ASSET_FILE)
    result = load_dags_from_file(path)
    assert result.errors == []
    dags = {d.dag_id: d for d in result.dags}
    assert sorted(dags) == ["both", "cleaned", "raw"]
    op = dags["cleaned"].get_task("cleaned")
    assert [(o.name, o.uri) for o in op.outlets] == [("cleaned", "cleaned")]
    assert [i.to_condition() for i in op.inlets] == [{"ref": {"name": "raw"}}]
    assert dags["cleaned"].timetable == AssetTriggeredTimetable(Asset("raw", "s3://bucket/raw"))
    assert op.execute(build_context(task=op, run_id="r", logical_date=START)) == "cleaned"
    assert dags["both"].get_task("both").outlets == [A, B]
    assert isinstance(dags["raw"].get_task("raw").outlets[0], AssetDefinition)


def test_task_decorator_takes_outlets() -> None:
    with DAG("d", schedule=None, start_date=START) as dag:

        @task(outlets=[A])
        def produce() -> None:
            pass

        produce()
    assert dag.get_task("produce").outlets == [A]


def test_asset_state_store_is_keyed_by_the_tasks_assets() -> None:
    with DAG("d", schedule=None, start_date=START):
        one = PythonOperator(task_id="one", python_callable=print, outlets=[A])
        two = PythonOperator(task_id="two", python_callable=print, inlets=[A], outlets=[B])
    runtime = InMemoryRuntime()
    with use_runtime(runtime):
        store = build_context(task=one, run_id="r", logical_date=START)["asset_state_store"]
        store.set("watermark", "2026-01-01")  # one asset: no need to say which
        store[A].set("runs", 1)
        both = build_context(task=two, run_id="r2", logical_date=START)["asset_state_store"]
        assert both[Asset(name=A.name)].get("watermark") == "2026-01-01"
        assert both[A].get("runs") == 1 and both[B].get("runs", default=0) == 0
        both[A].delete("runs")
        assert both[A].get("runs") is None
        with pytest.raises(ValueError, match="use asset_state_store"):
            both.get("watermark")
        with pytest.raises(KeyError):
            both[C]
        with pytest.raises(ValueError, match="must not be None"):
            both[A].set("k", None)
