"""`tradewind dags trigger` refuses a run id the API would refuse, with a clear error and nothing stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.integration.api.conftest import DAG_ID, build_dag, seed_dag
from tests.unit.cli.console import tradewind
from tests.unit.cli.test_pools import migrated_home  # noqa: F401 - the fixture
from tradewind.config.settings import load_settings
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
