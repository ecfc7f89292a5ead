"""The DAG processor's callback runner with real `tradewind dags run-callback` processes: callbacks run side by
side and beside parsing, an overrunning one is killed, and a stopped processor hands back what it interrupted."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.dag_processing.store_view import active_dag_ids
from tests.waiting import wait_for
from tradewind.config.settings import Settings, load_settings
from tradewind.core.clock import utcnow
from tradewind.dag_processing.dag_callback_runner import DagCallbackRunner
from tradewind.dag_processing.processor import DagProcessor
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run
from tradewind.store.tables import DagCallbackRequestModel

#: Each DAG's failure callback runs one of these; they meet through files in the DAG folder.
CALLBACK_DAGS = """
import time
from datetime import datetime
from pathlib import Path
from tradewind import DAG, EmptyOperator

HERE = Path(__file__).parent

def wait_for(name, seconds=30):
    deadline = time.monotonic() + seconds
    while not (HERE / name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} never appeared")
        time.sleep(0.02)

def meet(context):
    me = context["dag"].dag_id
    (HERE / f"{me}.started").touch()
    wait_for("left.started" if me == "right" else "right.started")

def hold(context):
    (HERE / "hold.started").touch()
    wait_for("release")

def forever(context):
    (HERE / "forever.started").touch()
    time.sleep(600)

for dag_id, callback in [("left", meet), ("right", meet), ("hold", hold), ("forever", forever)]:
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), on_failure_callback=callback):
        EmptyOperator(task_id="t")
"""


@pytest.fixture
def cb_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "false")
    # A callback's timeout counts from its process's start: on a loaded machine a cold interpreter alone can
    # take seconds. Only the test of the timeout itself runs with a short one.
    monkeypatch.setenv("TRADEWIND__SCHEDULER__DAG_FILE_PROCESSOR_TIMEOUT", "60")
    monkeypatch.setenv("TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL", "0.2")
    monkeypatch.setenv("TRADEWIND__SCHEDULER__PARSING_PROCESSES", "2")
    return load_settings()


@pytest.fixture
def dags(cb_settings: Settings, sessions: sessionmaker[Session]) -> Path:
    (cb_settings.dags_folder / "callbacks.py").write_text(CALLBACK_DAGS)
    DagProcessor(cb_settings, sessions).run_once()
    return cb_settings.dags_folder


def _request(sessions: sessionmaker[Session], dag_id: str) -> int:
    with transaction(sessions) as session:
        run_id = trigger_run(session=session, dag_id=dag_id, now=utcnow()).run_id
        dag_callbacks.request_dag_callback(session=session, dag_id=dag_id, run_id=run_id,
                                           callback=dag_callbacks.ON_FAILURE, reason="task_failure", now=utcnow())
        return session.scalars(select(DagCallbackRequestModel.id).where(DagCallbackRequestModel.dag_id == dag_id)).one()


def _claims(sessions: sessionmaker[Session]) -> dict[str, object]:
    with sessions() as session:
        return {r.dag_id: r.claimed_at for r in session.scalars(select(DagCallbackRequestModel))}


def test_two_callbacks_run_side_by_side(cb_settings: Settings, sessions: sessionmaker[Session], dags: Path) -> None:
    _request(sessions, "left")
    _request(sessions, "right")
    # Each callback waits for the other to have started: run one after the other, the first would time out.
    runs = DagCallbackRunner(cb_settings, sessions).run_pending()
    assert sorted((r.dag_id, r.outcome) for r in runs) == [("left", "ok"), ("right", "ok")]
    assert _claims(sessions) == {}


def test_a_callback_past_its_timeout_is_killed_and_not_run_again(
    cb_settings: Settings, sessions: sessionmaker[Session], dags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__SCHEDULER__DAG_FILE_PROCESSOR_TIMEOUT", "10")  # room for a cold start
    _request(sessions, "forever")
    [run] = DagCallbackRunner(load_settings(), sessions).run_pending()
    assert (dags / "forever.started").exists()
    assert run.outcome == "timed out after 10 s and was killed"
    assert _claims(sessions) == {}


def test_a_running_callback_holds_up_neither_parsing_nor_a_stop_and_is_handed_back(
    cb_settings: Settings, sessions: sessionmaker[Session], dags: Path
) -> None:
    processor = DagProcessor(cb_settings, sessions)
    stop = threading.Event()
    service = threading.Thread(target=processor.run_forever, args=(stop,))
    service.start()
    try:
        _request(sessions, "hold")
        wait_for(lambda: (dags / "hold.started").exists(), timeout=30, what="the callback to start")
        (dags / "late.py").write_text(
            "from datetime import datetime\nfrom tradewind import DAG, EmptyOperator\n"
            "with DAG('late', schedule=None, start_date=datetime(2026, 1, 1)):\n    EmptyOperator(task_id='t')\n"
        )
        wait_for(lambda: "late" in active_dag_ids(sessions), timeout=30,
                   what="a DAG file added while the callback runs to be parsed")
        assert _claims(sessions)["hold"] is not None
    finally:
        stop.set()
        service.join(timeout=30)
    assert not service.is_alive()
    # Interrupted before it ended: the request stays, unclaimed, for the next processor to run at once.
    assert _claims(sessions) == {"hold": None}
    (dags / "release").touch()
    [run] = DagCallbackRunner(cb_settings, sessions).run_pending()
    assert (run.dag_id, run.outcome) == ("hold", "ok")
