"""Asset watchers with the real scheduler (LocalExecutor) and a real `tradewind triggerer`: a DAG scheduled on
an asset watched by a FileDeleteTrigger runs when the file appears (the trigger deletes it and records an
asset event), and runs again the next time: the watcher keeps watching."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.integration.scheduler.conftest import Deployment
from tests.integration.scheduler.test_deferral_end_to_end import _start_triggerer
from tests.waiting import wait_for
from tradewind.core.states import DagRunType
from tradewind.store import assets, dag_runs
from tradewind.store.tables import TriggerModel

WATCHED = """
from datetime import datetime
from pathlib import Path
from tradewind import DAG, PythonOperator
from airflow.sdk import Asset, AssetWatcher
from airflow.providers.standard.triggers.file import FileDeleteTrigger

FLAG = str(Path(__file__).with_name("flag"))
asset = Asset("landing", watchers=[AssetWatcher(name="landing_watcher",
                                                trigger=FileDeleteTrigger(filepath=FLAG, poke_interval=0.1))])

with DAG("watching", schedule=[asset], start_date=datetime(2026, 1, 1)):
    PythonOperator(task_id="react", python_callable=lambda: print("the flag landed", flush=True))
"""


def _asset_runs(deployment: Deployment) -> list[tuple[str, str]]:
    with deployment.sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id="watching", run_type=DagRunType.ASSET_TRIGGERED)
        return [(r.run_id, r.state) for r in runs]


def test_a_watched_file_runs_the_dag_each_time_it_lands(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__TRIGGERER__POLL_INTERVAL"] = "0.2"
    deployment.write_dag("watching", WATCHED)
    deployment.parse()
    with deployment.sessions() as session:
        [trigger_id] = session.scalars(select(TriggerModel.id)).all()
    deployment.start_scheduler()
    _start_triggerer(deployment)
    flag: Path = deployment.dags / "flag"

    for count in (1, 2):
        flag.touch()
        wait_for(lambda: len(_asset_runs(deployment)) == count, timeout=30,  # noqa: B023
                   what=f"asset-triggered run {count}", details=deployment.dump_logs)  # fmt: skip
        wait_for(lambda: _asset_runs(deployment)[-1][1] == "success", timeout=60,
                   what=f"run {count} to succeed", details=deployment.dump_logs)  # fmt: skip
        assert not flag.exists()

    with deployment.sessions() as session:
        events, total = assets.list_events(session=session)
        assert total == 2
        assert all(event.extra == {"from_trigger": True, "payload": True} for event, _ in events)
        assert {asset.name for _, asset in events} == {"landing"}
        assert session.scalars(select(TriggerModel.id)).all() == [trigger_id]  # the same watcher, still there
