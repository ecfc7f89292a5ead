"""`tradewind dags trigger`, `pause`, `unpause` and `delete`: refused input stores nothing, and each change is audited."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.integration.api.conftest import DAG_ID, build_dag, seed_dag
from tests.unit.cli.console import tradewind
from tests.unit.cli.test_pools import migrated_home  # noqa: F401 - the fixture
from tradewind.actions.actor import CommandLineUser
from tradewind.config.settings import load_settings
from tradewind.store.audit import list_audit
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.tables import DagRunModel


def test_trigger_refuses_an_unsafe_run_id(migrated_home: Path) -> None:  # noqa: F811
    engine = make_engine(load_settings().database_url)
    factory = make_session_factory(engine)
    seed_dag(factory, build_dag())
    result = tradewind("dags", "trigger", DAG_ID, "--run-id", "x/../../../../tmp/pwned")
    assert result.returncode != 0
    assert "dag_run_id 'x/../../../../tmp/pwned' is not allowed" in result.stderr
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(DagRunModel)) == 0
    engine.dispose()


def test_trigger_pause_and_delete_from_the_command_line_are_audited_like_the_api(
    migrated_home: Path,  # noqa: F811
) -> None:
    """The CLI goes through the same audited actions as the REST API and the UI: each change leaves an audit
    entry naming the operating-system user, and a triggered run names that user as who triggered it."""
    engine = make_engine(load_settings().database_url)
    factory = make_session_factory(engine)
    seed_dag(factory, build_dag())
    user = CommandLineUser.current().username
    triggered = tradewind("dags", "trigger", DAG_ID, "--run-id", "from_cli", "--conf", '{"n": 1}')
    assert triggered.returncode == 0, triggered.stderr
    assert tradewind("dags", "pause", DAG_ID).returncode == 0
    assert tradewind("dags", "unpause", DAG_ID).returncode == 0
    with factory() as session:
        run = session.scalars(select(DagRunModel).where(DagRunModel.run_id == "from_cli")).one()
        assert run.triggered_by == user
    deleted = tradewind("dags", "delete", DAG_ID, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    with factory() as session:
        entries, _ = list_audit(session=session, dag_id=DAG_ID)
        events = sorted((e.event, e.owner, e.run_id) for e in entries)
    assert events == sorted([
        ("trigger", user, "from_cli"),
        ("pause", user, None),
        ("unpause", user, None),
        ("delete_dag", user, None),
    ])
    engine.dispose()
