"""Deferrable operators with the real scheduler (LocalExecutor, runner processes) and real `tradewind triggerer`
processes: a task defers on a trigger, frees its slot, and resumes with the event at the same try; a failing
trigger and a timeout fail their task; a SIGKILLed triggerer is replaced and its trigger fires once; a
scheduler restarted meanwhile loses nothing; the trigger child has no database URL."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.scheduler.conftest import Deployment, Service
from tests.waiting import wait_for
from tradewind.core.json_values import to_tagged_json
from tradewind.core.keys import TaskInstanceKey
from tradewind.store import jobs, task_instances, triggers
from tradewind.store.engine import transaction
from tradewind.store.tables import TaskInstanceModel, TriggerModel

DEFERRING = """
from datetime import datetime, timedelta
from pathlib import Path
from tradewind import DAG, BaseOperator, PythonOperator
from tradewind.sdk.triggers.temporal import TimeDeltaTrigger
from broken_trigger import Broken

LEDGER = Path(__file__).with_name("ledger.txt")


class Wait(BaseOperator):
    def __init__(self, *, seconds, timeout=None, **kwargs):
        super().__init__(**kwargs)
        self.seconds = seconds
        self.wait_timeout = timeout

    def execute(self, context):
        print(f"first half of try {context['ti'].try_number}", flush=True)
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=self.seconds)), method_name="done",
                   kwargs={"asked": self.seconds}, timeout=self.wait_timeout)

    def done(self, context, event=None, asked=None):
        with LEDGER.open("a") as f:
            f.write(f"{context['ti'].task_id} {context['ti'].try_number}\\n")
        print(f"second half: event={event.isoformat()} asked={asked}", flush=True)
        return asked


class Failing(BaseOperator):
    def execute(self, context):
        self.defer(trigger=Broken(), method_name="done")

    def done(self, context, event=None):
        return "unreachable"


with DAG("deferring", schedule=None, start_date=datetime(2026, 1, 1)):
    Wait(task_id="wait", seconds=2)

with DAG("slot", schedule=None, start_date=datetime(2026, 1, 1)):
    Wait(task_id="wait", seconds=6, priority_weight=10)
    PythonOperator(task_id="other", python_callable=lambda: print("other ran", flush=True))

with DAG("broken", schedule=None, start_date=datetime(2026, 1, 1)):
    Failing(task_id="fail")

with DAG("late", schedule=None, start_date=datetime(2026, 1, 1)):
    Wait(task_id="wait", seconds=3600, timeout=1)

with DAG("long", schedule=None, start_date=datetime(2026, 1, 1)):
    Wait(task_id="wait", seconds=8)
"""

#: The trigger class must be importable in the triggerer's child: beside the DAGs, as in Airflow.
BROKEN_TRIGGER = """
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent


class Broken(BaseTrigger):
    def serialize(self):
        return ("broken_trigger.Broken", {})

    async def run(self):
        raise RuntimeError("the partner API said no")
        yield TriggerEvent(None)
"""


def _ti(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> TaskInstanceModel:
    with deployment.sessions() as session:
        return task_instances.get_task_instance(session=session, key=TaskInstanceKey(dag_id, run_id, task_id))


def _state(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> str | None:
    return _ti(deployment, dag_id, run_id, task_id).state


def _start_triggerer(deployment: Deployment, name: str = "triggerer", *, cold: bool = False) -> Service:
    proc = deployment.start("triggerer", log_name=name, cold=cold)

    def registered() -> bool:
        with deployment.sessions() as session:
            alive = jobs.alive_jobs(session=session, job_type="triggerer", threshold_seconds=60, now=_now())
            return any(j.pid == proc.pid for j in alive)

    wait_for(registered, timeout=30, what="triggerer job registered", details=deployment.dump_logs)
    return proc


def _now():  # type: ignore[no-untyped-def]
    from tradewind.core.clock import utcnow

    return utcnow()


def _log(deployment: Deployment, dag_id: str, task_id: str, run_id: str) -> str:
    return deployment.tw("tasks", "logs", dag_id, task_id, run_id).stdout


def _ledger(deployment: Deployment) -> list[str]:
    path = deployment.dags / "ledger.txt"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def deferring(deployment: Deployment) -> Deployment:
    deployment.env["TRADEWIND__TRIGGERER__HEARTBEAT_INTERVAL"] = "0.5"
    deployment.env["TRADEWIND__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD"] = "2"
    deployment.env["TRADEWIND__TRIGGERER__POLL_INTERVAL"] = "0.2"
    deployment.write_dag("deferring", DEFERRING)
    deployment.write_dag("broken_trigger", BROKEN_TRIGGER)
    deployment.parse()
    return deployment


def test_a_task_defers_and_resumes_with_the_event_at_the_same_try(deferring: Deployment) -> None:
    # Ticks come from rings here: a timed tick would come only after 30 s, so anything that waited for one
    # stands out from a loaded machine's slowness.
    deferring.env["TRADEWIND__SCHEDULER__LOOP_INTERVAL"] = "30"
    deferring.start_scheduler()
    _start_triggerer(deferring)
    run_id = deferring.tw("dags", "trigger", "deferring").stdout.strip()
    wait_for(lambda: _state(deferring, "deferring", run_id, "wait") == "deferred", timeout=60,
               what="the task to defer", details=deferring.dump_logs)  # fmt: skip
    deferred_at = time.monotonic()
    assert deferring.wait_run("deferring", run_id) == "success", deferring.dump_logs()
    assert time.monotonic() - deferred_at < 20
    ti = _ti(deferring, "deferring", run_id, "wait")
    assert (ti.try_number, ti.next_method, ti.trigger_id) == (1, None, None)
    # scheduled_at: when the triggerer fired the trigger; queued_at: when the scheduler dispatched the resume,
    # woken by the triggerer's ring rather than by its next timed tick.
    assert ti.scheduled_at is not None and ti.queued_at is not None
    assert (ti.queued_at - ti.scheduled_at).total_seconds() < 15, (ti.scheduled_at, ti.queued_at)
    log = _log(deferring, "deferring", "wait", run_id)
    assert "first half of try 1" in log and "Pausing task as DEFERRED" in log, log
    assert "Resuming after deferral: calling done" in log and "second half: event=" in log, log
    assert "asked=2" in log
    assert _ledger(deferring) == ["wait 1"]
    with deferring.sessions() as session:
        assert session.scalars(select(TriggerModel.id)).all() == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_deferred_task_frees_its_slot(deferring: Deployment) -> None:
    deferring.env["TRADEWIND__CORE__PARALLELISM"] = "1"
    deferring.start_scheduler()
    _start_triggerer(deferring)
    run_id = deferring.tw("dags", "trigger", "slot").stdout.strip()
    # With one slot, "other" can only run while "wait" is deferred (wait sorts first by priority/id).
    wait_for(lambda: _state(deferring, "slot", run_id, "other") == "success", timeout=60,
               what="the second task to run", details=deferring.dump_logs)  # fmt: skip
    assert _state(deferring, "slot", run_id, "wait") == "deferred", deferring.dump_logs()
    assert deferring.wait_run("slot", run_id) == "success", deferring.dump_logs()
    assert _ti(deferring, "slot", run_id, "wait").try_number == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_failing_trigger_fails_its_task_with_the_traceback_in_the_task_log(deferring: Deployment) -> None:
    deferring.start_scheduler()
    _start_triggerer(deferring)
    run_id = deferring.tw("dags", "trigger", "broken").stdout.strip()
    assert deferring.wait_run("broken", run_id) == "failed", deferring.dump_logs()
    log = _log(deferring, "broken", "fail", run_id)
    assert "Trigger failed:" in log and "RuntimeError: the partner API said no" in log, log
    assert "TaskDeferralError: Trigger failure" in log, log


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_trigger_timeout_fails_the_task(deferring: Deployment) -> None:
    deferring.start_scheduler()
    _start_triggerer(deferring)
    run_id = deferring.tw("dags", "trigger", "late").stdout.strip()
    assert deferring.wait_run("late", run_id, timeout=30) == "failed", deferring.dump_logs()
    log = _log(deferring, "late", "wait", run_id)
    assert "TaskDeferralTimeout: Trigger/execution timeout" in log, log
    assert _ledger(deferring) == []


def test_a_killed_triggerer_is_replaced_and_a_restarted_scheduler_loses_nothing(
    deferring: Deployment,
) -> None:
    scheduler = deferring.start_scheduler()
    first = _start_triggerer(deferring, "triggerer-1")
    run_id = deferring.tw("dags", "trigger", "long").stdout.strip()
    key = TaskInstanceKey("long", run_id, "wait")

    def claimed_by(pid: int) -> bool:
        with deferring.sessions() as session:
            ti = task_instances.get_task_instance(session=session, key=key)
            holders = {j.id for j in jobs.alive_jobs(session=session, job_type="triggerer", threshold_seconds=60,
                                                      now=_now()) if j.pid == pid}  # fmt: skip
            if ti.trigger_id is None:
                return False
            from tradewind.store.tables import TriggerModel

            row = session.get(TriggerModel, ti.trigger_id)
            return row is not None and row.triggerer_id in holders

    wait_for(lambda: claimed_by(first.pid), timeout=60, what="the first triggerer to claim the trigger",
               details=deferring.dump_logs)  # fmt: skip
    # Both services die while the task waits: a new triggerer takes the trigger over, a new scheduler resumes it.
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    scheduler.send_signal(signal.SIGKILL)
    scheduler.wait(timeout=10)
    second = _start_triggerer(deferring, "triggerer-2")
    wait_for(lambda: claimed_by(second.pid), timeout=30, what="the second triggerer to take the trigger over",
               details=deferring.dump_logs)  # fmt: skip
    assert _state(deferring, "long", run_id, "wait") == "deferred"
    deferring.start_scheduler()
    assert deferring.wait_run("long", run_id, timeout=60) == "success", deferring.dump_logs()
    assert _ledger(deferring) == ["wait 1"]
    assert _ti(deferring, "long", run_id, "wait").try_number == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_trigger_child_has_no_database_url(deferring: Deployment) -> None:
    # Cold: the environment a process was started with (/proc/PID/environ) is compared, parent and child.
    triggerer = _start_triggerer(deferring, cold=True)
    # The child is started for the first trigger to run (ADR 0028): one an hour away.
    with transaction(deferring.sessions) as session:
        moment = datetime.now(UTC) + timedelta(hours=1)
        triggers.create_trigger(
            session=session,
            classpath="tradewind.sdk.triggers.temporal.DateTimeTrigger",
            kwargs=to_tagged_json({"moment": moment}),
            now=moment,
        )
    children = Path(f"/proc/{triggerer.pid}/task/{triggerer.pid}/children")

    def started_child() -> int | None:
        # Between fork and exec a child still shows its parent's environment: wait for the exec'd runner.
        for pid in children.read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline")
            if cmdline.exists() and b"tradewind.triggerer.trigger_runner" in cmdline.read_bytes():
                return int(pid)
        return None

    wait_for(lambda: started_child() is not None, timeout=30, what="the trigger child")
    child = started_child()
    environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0] for entry in environ if entry}
    assert b"TRADEWIND__DATABASE__URL" not in names
    assert b"TRADEWIND_HOME" in names
    parent_names = {
        e.split(b"=", 1)[0] for e in Path(f"/proc/{triggerer.pid}/environ").read_bytes().split(b"\0")
    }
    assert b"TRADEWIND__DATABASE__URL" in parent_names
    assert deferring.tw("jobs", "check", "--job-type", "triggerer", "--local", check=False).returncode == 0
    triggerer.send_signal(signal.SIGTERM)
    triggerer.wait(timeout=30)
    assert deferring.tw("jobs", "check", "--job-type", "triggerer", check=False).returncode == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dags_test_runs_the_triggers_of_deferred_tasks(deferring: Deployment) -> None:
    out = deferring.tw("dags", "test", "deferring", check=False, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "first half of try 1" in out.stdout and "second half: event=" in out.stdout, out.stdout
    assert "wait" in out.stdout and "success" in out.stdout


SENSORS = """
from datetime import datetime
from tradewind import DAG, PythonOperator
from tradewind.sdk.sensors.external_task import ExternalTaskSensor
from tradewind.sdk.sensors.filesystem import FileSensor

with DAG("upstream", schedule=None, start_date=datetime(2026, 1, 1)):
    PythonOperator(task_id="load", python_callable=lambda: print("loaded", flush=True))

with DAG("downstream", schedule=None, start_date=datetime(2026, 1, 1)):
    ExternalTaskSensor(task_id="wait_up", external_dag_id="upstream", external_task_id="load", deferrable=True,
                       poke_interval=0.5, timeout=300)
    FileSensor(task_id="wait_file", filepath="{path}/*.csv", deferrable=True, poke_interval=0.5, timeout=300)
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_deferrable_sensors_wait_in_the_triggerer(deferring: Deployment, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    deferring.write_dag("sensors", SENSORS.replace("{path}", str(landing)))
    deferring.parse()
    deferring.start_scheduler()
    _start_triggerer(deferring)
    logical = "2026-02-03T00:00:00+00:00"
    run_id = deferring.tw("dags", "trigger", "downstream", "-l", logical).stdout.strip()
    for task_id in ("wait_up", "wait_file"):
        wait_for(lambda t=task_id: _state(deferring, "downstream", run_id, t) == "deferred",  # type: ignore[misc]
                   timeout=60, what=f"{task_id} to defer", details=deferring.dump_logs)  # fmt: skip
    up_run = deferring.tw("dags", "trigger", "upstream", "-l", logical).stdout.strip()
    (landing / "orders.csv").write_text("id\n1\n")
    assert deferring.wait_run("upstream", up_run) == "success", deferring.dump_logs()
    assert deferring.wait_run("downstream", run_id) == "success", deferring.dump_logs()
    for task_id in ("wait_up", "wait_file"):
        assert _ti(deferring, "downstream", run_id, task_id).try_number == 1
        log = _log(deferring, "downstream", task_id, run_id)
        assert "Deferring: the triggerer waits on" in log and "Success criteria met" in log, log


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_standalone_runs_a_triggerer(deferring: Deployment) -> None:
    deferring.env["TRADEWIND__CORE__LOAD_EXAMPLES"] = "false"
    deferring.start("standalone", "--no-webserver", log_name="standalone")
    wait_for(lambda: deferring.tw("jobs", "check", "--job-type", "triggerer", check=False).returncode == 0,
               timeout=60, what="the standalone triggerer", details=deferring.dump_logs)  # fmt: skip
    run_id = deferring.tw("dags", "trigger", "deferring").stdout.strip()
    assert deferring.wait_run("deferring", run_id) == "success", deferring.dump_logs()
    assert _ti(deferring, "deferring", run_id, "wait").try_number == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tasks_test_runs_the_trigger_in_process(deferring: Deployment) -> None:
    out = deferring.tw("tasks", "test", "deferring", "wait", check=False, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "first half of try 1" in text and "Waiting here on" in text and "second half: event=" in text, text
    failed = deferring.tw("tasks", "test", "broken", "fail", check=False, timeout=60)
    assert failed.returncode == 1
    assert "RuntimeError: the partner API said no" in failed.stdout + failed.stderr
