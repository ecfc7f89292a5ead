"""End to end through `tradewind dags test` in a subprocess: isolated Python tasks (a uv-built venv and an
external interpreter) and a plugins folder (a macro in a Bash template, a custom timetable, extra links on
the task page and in the API, a broken plugin file reported while the good plugin loads)."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cheap_password_hashes import cheap_hash
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.api.app import create_app
from tradewind.plugins import registry
from tradewind.sdk import macros
from tradewind.store import dag_runs, users, xcom
from tradewind.store.engine import transaction

# Starlette suggests another client package; httpx is the one this project uses.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

ISOLATED_DAG = """
import sys
from datetime import datetime
from tradewind import DAG, task
from tradewind.sdk.operators.isolated_python import ExternalPythonOperator

VENV_CACHE = {venv_cache!r}

def external(greeting, ds):
    import sys
    print(f"external says {{greeting}} on {{ds}} from {{sys.executable}}")
    return greeting.upper()

with DAG("isolated", schedule=None, start_date=datetime(2026, 1, 1)):

    @task.virtualenv(requirements=["six==1.17.0"], system_site_packages=False, venv_cache_path=VENV_CACHE)
    def in_venv(n: int) -> str:
        import six
        print("venv has six", six.__version__)
        return f"{{six.__version__}}:{{n * 2}}"

    @task.external_python(python=sys.executable, expect_tradewind=False)
    def fails():
        raise KeyError("deliberate")

    ext = ExternalPythonOperator(
        task_id="external", python=sys.executable, python_callable=external,
        op_kwargs={{"greeting": "hello {{{{ dag_run.dag_id }}}}"}},
    )

    @task
    def report(value: str, other: str) -> str:
        print("report got", value, other)
        return value

    report(in_venv(21), ext.output)
    fails()
"""

PLUGIN = """
from datetime import timedelta
from airflow.plugins_manager import AirflowPlugin
from tradewind import BashOperator
from tradewind.sdk.operator_links import BaseOperatorLink
from tradewind.sdk.timetables.base import DataInterval, Timetable


def shout(text):
    return text.upper() + "!"


class DayBeforeTimetable(Timetable):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return None

    def infer_manual_data_interval(self, *, run_after):
        return DataInterval(run_after - timedelta(days=1), run_after)


class DocsLink(BaseOperatorLink):
    name = "Docs"
    operators = [BashOperator]

    def get_link(self, operator, *, ti_key):
        return f"https://docs.example.com/{ti_key.dag_id}/{operator.task_id}"


class TeamPlugin(AirflowPlugin):
    name = "team"
    macros = [shout]
    timetables = [DayBeforeTimetable]
    operator_extra_links = [DocsLink()]
"""

BROKEN_PLUGIN = """\
import os

raise ImportError("missing dependency of this plugin")
"""

PLUGIN_DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator
from team_plugin import DayBeforeTimetable

with DAG("with_plugin", schedule=DayBeforeTimetable(), start_date=datetime(2026, 1, 1)):
    BashOperator(
        task_id="say",
        bash_command="echo said={{ macros.team.shout('hi') }} from={{ data_interval_start | ds }}",
    )
"""


@pytest.fixture(scope="session")
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venvs")


@pytest.fixture
def sqlite_deployment(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    # Plugins load once per process: this test process loads its own copy and leaves none behind.
    monkeypatch.setattr(registry, "_loaded", {})
    before = set(vars(macros))
    dep = Deployment(tw_home, f"sqlite:///{tw_home / 'tradewind.db'}")
    try:
        yield dep
    finally:
        dep.stop_all()
        for name in set(vars(macros)) - before:
            delattr(macros, name)


def only_run_id(dep: Deployment, dag_id: str) -> str:
    with dep.sessions() as session:
        runs = dag_runs.list_dag_runs(session=session, dag_id=dag_id)[0]
        assert len(runs) == 1
        return str(runs[0].run_id)


def test_isolated_tasks_run_under_dags_test(sqlite_deployment: Deployment, venv_cache: Path) -> None:
    dep = sqlite_deployment
    dep.write_dag("isolated", ISOLATED_DAG.format(venv_cache=str(venv_cache)))
    out = dep.tw("dags", "test", "isolated", check=False)
    assert out.returncode == 1, out.stdout + out.stderr  # `fails` fails the run, by design
    log = out.stdout
    assert "venv has six 1.17.0" in log
    assert "external says hello isolated on " in log and sys.executable in log
    assert "report got 1.17.0:42 HELLO ISOLATED" in log
    # The failing function's traceback, from the child interpreter, is in its task's log.
    assert "KeyError: 'deliberate'" in log and "Traceback (most recent call last)" in log
    states = {line.split()[1]: line.split()[5] for line in log.splitlines() if line.startswith("│ ")}
    assert states == {"in_venv": "success", "external": "success", "report": "success", "fails": "failed"}
    run_id = only_run_id(dep, "isolated")
    with dep.sessions() as session:
        assert (
            xcom.get_xcom(session=session, dag_id="isolated", run_id=run_id, task_id="in_venv") == "1.17.0:42"
        )


def test_plugins_folder_macros_timetable_links_and_a_broken_file(sqlite_deployment: Deployment) -> None:
    dep = sqlite_deployment
    plugins = dep.home / "plugins"
    plugins.mkdir()
    (plugins / "team_plugin.py").write_text(PLUGIN)
    (plugins / "broken_plugin.py").write_text(BROKEN_PLUGIN)
    dep.write_dag("with_plugin", PLUGIN_DAG)

    out = dep.tw("dags", "test", "with_plugin", "2026-03-10")
    assert "said=HI! from=2026-03-09" in out.stdout  # the plugin's macro and its timetable's interval
    assert f"{plugins / 'broken_plugin.py'} (line 3)" in out.stderr
    assert "missing dependency of this plugin" in out.stderr

    listed = dep.tw("plugins", "-o", "json")
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["team"]
    assert rows[0]["source"] == str(plugins / "team_plugin.py")
    assert rows[0]["macros"] == ["team_plugin.shout"]
    assert rows[0]["timetables"] == ["team_plugin.DayBeforeTimetable"]
    assert rows[0]["operator_extra_links"] == ["Docs (team_plugin.DocsLink)"]
    assert "broken_plugin.py:3" in listed.stderr

    run_id = only_run_id(dep, "with_plugin")
    settings = dep.settings()
    with transaction(dep.sessions) as session:
        users.create_user(
            session=session, username="viewer", password_hash=cheap_hash("pw-123456"), role="viewer"
        )
    with TestClient(create_app(settings)) as client:
        client.auth = ("viewer", "pw-123456")
        links = client.get(f"/api/v1/dags/with_plugin/dagRuns/{run_id}/taskInstances/say/links")
        assert links.status_code == 200, links.text
        assert links.json() == {"Docs": "https://docs.example.com/with_plugin/say"}
        v2 = client.get(f"/api/v2/dags/with_plugin/dagRuns/{run_id}/taskInstances/say/links").json()
        assert v2 == {"extra_links": {"Docs": "https://docs.example.com/with_plugin/say"}, "total_entries": 1}
        page = client.get(f"/dags/with_plugin/runs/{run_id}/tasks/say", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert 'href="https://docs.example.com/with_plugin/say"' in page.text


def test_a_missing_interpreter_fails_only_its_task(sqlite_deployment: Deployment) -> None:
    dep = sqlite_deployment
    dep.write_dag(
        "no_python",
        """
        from datetime import datetime
        from tradewind import DAG, task
        with DAG("no_python", schedule=None, start_date=datetime(2026, 1, 1)):
            @task.external_python(python="/nonexistent/bin/python")
            def f():
                return 1
            f()
        """,
    )
    out = dep.tw("dags", "test", "no_python", check=False)
    assert out.returncode == 1
    assert "'/nonexistent/bin/python' is not an existing file" in out.stdout


ONE_RUN_TIMETABLE = """
from datetime import datetime, timezone
from airflow.plugins_manager import AirflowPlugin
from tradewind.sdk.timetables.base import DagRunInfo, Timetable


class OneRunTimetable(Timetable):
    \"\"\"One scheduled run, for [2026-01-01, 2026-01-02), then none.\"\"\"

    def __init__(self, label="one"):
        self.label = label

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        if last_automated_data_interval is not None:
            return None
        utc = timezone.utc
        return DagRunInfo.interval(datetime(2026, 1, 1, tzinfo=utc), datetime(2026, 1, 2, tzinfo=utc))

    def serialize(self):
        return {"label": self.label}

    @classmethod
    def deserialize(cls, data):
        return cls(data["label"])


class SchedulePlugin(AirflowPlugin):
    name = "schedules"
    timetables = [OneRunTimetable]
"""

SCHEDULED_DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator
from one_run import OneRunTimetable

with DAG("custom_schedule", schedule=OneRunTimetable("kept"), start_date=datetime(2025, 1, 1)):
    BashOperator(task_id="echo", bash_command="echo interval={{ data_interval_start | ds }}")
"""


def test_the_scheduler_rebuilds_a_plugin_timetable_and_runs_it(sqlite_deployment: Deployment) -> None:
    dep = sqlite_deployment
    (dep.home / "plugins").mkdir()
    (dep.home / "plugins" / "one_run.py").write_text(ONE_RUN_TIMETABLE)
    dep.write_dag("custom_schedule", SCHEDULED_DAG)
    dep.start_scheduler()
    run_id = "scheduled__2026-01-01T00:00:00+00:00"

    def run_exists() -> bool:
        with dep.sessions() as session:
            runs, _total = dag_runs.list_dag_runs(session=session, dag_id="custom_schedule")
            return any(r.run_id == run_id for r in runs)

    wait_for(run_exists, timeout=60, what="the scheduled run", details=dep.dump_logs)
    assert dep.wait_run("custom_schedule", run_id) == "success"
    log = dep.tw("tasks", "logs", "custom_schedule", "echo", run_id).stdout
    assert "interval=2026-01-01" in log
