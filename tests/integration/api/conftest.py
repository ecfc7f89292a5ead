"""Fixtures for the webserver's API and page tests: a migrated database seeded with users, a DAG built here
as a SerializedDag (no scheduler, no DAG file import), and clients logged in with each role."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tests.cheap_password_hashes import cheap_hash
from tests.migrated_databases import migrate_database
from tradewind.api.app import create_app
from tradewind.config.settings import Settings
from tradewind.core.serialized_dag import SerializedDag, SerializedParam, SerializedTask, SerializedTaskGroup
from tradewind.store import dag_files, dags, users
from tradewind.store.engine import make_engine, make_session_factory, transaction

# Starlette suggests another client package; httpx is the one this project uses.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

PASSWORDS = {"admin": "admin-pass-1", "op": "op-pass-123", "viewer": "viewer-pass-1"}
ROLES = ("viewer", "op", "admin")
DAG_ID = "shop_orders"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SOURCE = "from tradewind import DAG\n# the shop_orders DAG\n"


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """argon2 is slow on purpose: hash each test password once per session."""
    return {role: cheap_hash(password) for role, password in PASSWORDS.items()}


def build_dag(dag_id: str = DAG_ID, *, tags: list[str] | None = None) -> SerializedDag:
    """extract -> process.clean -> process.enrich -> load -> notify, with params and a task group."""
    edges = {
        "extract": ["process.clean"],
        "process.clean": ["process.enrich"],
        "process.enrich": ["load"],
        "load": ["notify"],
        "notify": [],
    }
    upstream: dict[str, list[str]] = {t: [] for t in edges}
    for src, downs in edges.items():
        for d in downs:
            upstream[d].append(src)
    tasks = [
        SerializedTask(
            task_id=t,
            operator="BashOperator",
            upstream=upstream[t],
            downstream=edges[t],
            task_group="process" if t.startswith("process.") else None,
            template_fields=["bash_command"],
            templates={"bash_command": "echo {{ params.count }}"},
        )
        for t in edges
    ]
    return SerializedDag(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        relative_fileloc=f"{dag_id}.py",
        description="Orders from the shop",
        doc_md="# Shop orders\nLoads **orders** every day.",
        tags=tags if tags is not None else ["shop", "daily"],
        owners=["data-team"],
        timetable={"type": "cron", "expression": "0 6 * * *", "timezone": "UTC"},
        schedule_description="At 06:00",
        params={
            "count": SerializedParam(default=3, schema={"type": "integer", "minimum": 1}),
            "label": SerializedParam(default="daily", schema={"type": "string"}),
        },
        tasks=tasks,
        task_groups={
            "process": SerializedTaskGroup(group_id="process", children=["process.clean", "process.enrich"])
        },
    )


def seed_dag(factory: sessionmaker[Session], sdag: SerializedDag, *, paused: bool = False) -> None:
    with transaction(factory) as session:
        dags.upsert_dag(session=session, sdag=sdag, paused_default=paused, now=NOW)
        record = dag_files.DagFileRecord(sdag.fileloc, "h", 0.0, [sdag.dag_id], SOURCE, 0.01)
        dag_files.upsert_dag_files(session=session, records=[record], now=NOW)


@dataclass
class Site:
    """The app under test and a way into its database."""

    app: FastAPI
    settings: Settings
    factory: sessionmaker[Session]
    clients: list[TestClient]

    def client(self) -> TestClient:
        client = TestClient(self.app, base_url="http://testserver")
        client.__enter__()
        self.clients.append(client)
        return client

    def login(self, role: str) -> tuple[TestClient, str]:
        """A client holding a session cookie for the user named like the role, and its CSRF token."""
        client = self.client()
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        response = client.post(
            "/login",
            data={
                "username": role,
                "password": PASSWORDS[role],
                "csrf_token": token.group(1),
                "next": "/dags",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        page = client.get("/dags", headers={"accept": "text/html"})
        csrf = re.search(r'data-csrf="([^"]+)"', page.text)
        assert csrf is not None
        return client, csrf.group(1)


@pytest.fixture
def site(settings: Settings, password_hashes: dict[str, str]) -> Iterator[Site]:
    migrate_database(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        for role in ROLES:
            users.create_user(session=session, username=role, password_hash=password_hashes[role], role=role)
    seed_dag(factory, build_dag())
    site = Site(app=create_app(settings), settings=settings, factory=factory, clients=[])
    try:
        yield site
    finally:
        for client in site.clients:
            client.__exit__(None, None, None)
        engine.dispose()
