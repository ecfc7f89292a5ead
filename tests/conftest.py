"""Shared fixtures: an isolated TRADEWIND_HOME, and metadata databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.config.settings import Settings, load_settings
from tradewind.store.engine import make_engine

# The container image fixture (`tradewind_image`) for any test that runs the image; the opt-in cost report
# (TRADEWIND_TEST_COST_REPORT=path.json, tests/cpu_accounting.py).
pytest_plugins = ["tests.container_image", "tests.cpu_accounting"]

POSTGRES_ADMIN_URL = os.environ.get("TRADEWIND_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")


#: Modules whose few tests take minutes, in the order they start. pytest-xdist (run with
#: ``--no-loadscope-reorder``, as scripts/test.sh does) hands out modules in collection order; by default it would put the modules with
#: fewest tests last, so these long ones used to form the run's tail on one worker while the other was idle.
LONG_MODULES = (
    "tests/conformance/test_airflow_examples.py",
    "tests/integration/scheduler/test_soak.py",
    "tests/integration/scheduler/test_clock_steps_end_to_end.py",
    "tests/integration/scheduler/test_deferral_end_to_end.py",
    "tests/integration/scheduler/test_wake_on_events.py",
    "tests/integration/scheduler/test_local_executor_end_to_end.py",
    "tests/conformance/test_airflow_sensor_examples.py",
    # the image builds in the background meanwhile (scripts/test.sh)
    "tests/integration/kubernetes/test_container_end_to_end.py",
    "tests/integration/deploy/test_container_services.py",
    "tests/integration/deploy/test_container_tasks.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    first = {path: rank for rank, path in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::", 1)[0], len(first)))
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: opt in with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture
def tw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRADEWIND_HOME with its own dags/ and logs/, and no TRADEWIND__ settings leaking in."""
    for key in list(os.environ):
        if key.startswith("TRADEWIND__") or key.startswith("TRADEWIND_VAR_"):
            monkeypatch.delenv(key)
    home = tmp_path / "tw_home"
    (home / "dags").mkdir(parents=True)
    (home / "logs").mkdir()
    monkeypatch.setenv("TRADEWIND_HOME", str(home))
    return home


def create_postgres_database(prefix: str = "tw_test") -> str:
    """Create a uniquely named PostgreSQL database and return its URL."""
    from tests.postgres_databases import create_database

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create_database(POSTGRES_ADMIN_URL, name)
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    """Drop the database at ``url`` in the background (sessions still on it are ended)."""
    from tests.postgres_databases import retire

    retire(POSTGRES_ADMIN_URL, url.rsplit("/", 1)[1])


#: For a process-level test whose subject does not depend on the metadata database (a CLI's output, log or
#: metric formats, signals, timeouts): it runs on SQLite only. What it reads and writes is covered on
#: PostgreSQL by the store tests, and the process-level tests that do depend on it (scheduling, claims, wake-ups,
#: two schedulers, outages) keep both databases.
ON_SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty metadata database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tradewind.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database at the newest schema revision (a copy of a template migrated once)."""
    from tests.migrated_databases import migrate_database

    migrate_database(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def settings(tw_home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for an isolated home on the parametrised database (SQLite and PostgreSQL)."""
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", db_url)
    return load_settings()
