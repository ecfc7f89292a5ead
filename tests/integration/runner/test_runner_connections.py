"""Task code reads connections the Airflow way through the execution API: one stored in the database
(password and extra encrypted with the Fernet key), one from an environment variable; their secrets never
reach the try's log, and ``{{ conn.ID.host }}`` renders in templates."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from tests.integration.runner.harness import (
    DAG_ID,
    SQLITE_ONLY,
    TRADEWIND,
    RunnerEnv,
    run_through_executor,
    runner_database,
)
from tradewind.api.execution.app import create_execution_app
from tradewind.api.execution.embedded import EmbeddedExecutionApi
from tradewind.config.settings import Settings, load_settings
from tradewind.core.events import TryProcessEvent
from tradewind.execution.tokens import TokenScope, TryIdentity, WorkloadTokens, signer_from_settings
from tradewind.sdk.connection import Connection
from tradewind.store.connections import set_connection
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.tables import ConnectionModel

DB_PASSWORD = "db-pass/with spaces&odd=chars"
API_TOKEN = "tok-9f8e7d6c5b4a"
ENV_PASSWORD = "env-api-s3cret-value"


@pytest.fixture
def conn_env(
    settings: Settings, tw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RunnerEnv, WorkloadTokens]]:
    monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", Fernet.generate_key().decode())
    keyed = load_settings()
    with runner_database(keyed, tw_home, tmp_path) as env:
        with transaction(env.factory) as session:
            set_connection(
                session=session,
                connection=Connection(
                    "stored_db", conn_type="postgres", host="db.internal", login="app", password=DB_PASSWORD,
                    port=5432, schema="sales", extra={"sslmode": "require", "api_token": API_TOKEN},
                ),
                cipher=FieldCipher.from_settings(keyed),
            )  # fmt: skip
            row = session.query(ConnectionModel).filter_by(conn_id="stored_db").one()
            assert DB_PASSWORD not in (row.password or "") and API_TOKEN not in (row.extra or "")
        env.env["TRADEWIND_CONN_ENV_API"] = json.dumps(
            {"conn_type": "http", "host": "api.example.com", "login": "bot", "password": ENV_PASSWORD}
        )
        server = EmbeddedExecutionApi(keyed)
        url = server.start()
        try:
            yield env, WorkloadTokens(signer_from_settings(keyed), url)
        finally:
            server.stop()


def _run(env: RunnerEnv, tokens: WorkloadTokens, task_ids: list[str]) -> dict[str, TryProcessEvent]:
    return run_through_executor(env, tokens, task_ids)[0]


def test_task_reads_stored_and_env_connections_without_logging_secrets(
    conn_env: tuple[RunnerEnv, WorkloadTokens],
) -> None:
    env, tokens = conn_env
    outcome = _run(env, tokens, ["read_connections", "conn_template"])
    assert outcome == {"read_connections": TryProcessEvent.EXITED_CLEANLY, "conn_template": TryProcessEvent.EXITED_CLEANLY}, env.log(
        "read_connections"
    )
    seen = env.xcom("read_connections")
    assert seen["stored"] == ["postgres", "db.internal", "app", 5432, "sales"]
    assert seen["stored_extra"] == {"sslmode": "require", "api_token": API_TOKEN}
    assert seen["stored_password"] == DB_PASSWORD
    assert seen["env"] == ["http", "api.example.com", "bot", ENV_PASSWORD]
    log = env.log("read_connections")
    assert "stored: postgres://app:***@db.internal:5432/sales" in log
    assert "env: login bot password ***" in log
    for secret in (DB_PASSWORD, API_TOKEN, ENV_PASSWORD, "db-pass%2Fwith"):
        assert secret not in log
    assert "host=db.internal" in env.log("conn_template")


@SQLITE_ONLY
def test_the_connections_route_serves_run_and_callback_tokens_only(
    runner_env: RunnerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", Fernet.generate_key().decode())
    keyed = load_settings()
    with transaction(runner_env.factory) as session:
        stored = Connection("stored_db", conn_type="postgres", host="h", password=DB_PASSWORD, extra={"a": 1})
        set_connection(session=session, connection=stored, cipher=FieldCipher.from_settings(keyed))
        other = Connection("other_key", conn_type="http", password="pw-of-other-key")
        set_connection(session=session, connection=other, cipher=FieldCipher(Fernet.generate_key().decode()))
    signer = signer_from_settings(keyed)
    identity = TryIdentity(runner_env.key("bash_echo"), 1)
    runner_env.queue("bash_echo")
    with TestClient(create_execution_app(keyed)) as api:
        claim = {"Authorization": f"Bearer {signer.issue(identity, TokenScope.CLAIM)}"}
        params = {"conn_id": "stored_db"}
        assert api.get("/execution/connections", params=params, headers=claim).status_code == 403
        claimed = api.post("/execution/try/claim", json={"hostname": "w", "pid": 1}, headers=claim).json()
        run = {"Authorization": f"Bearer {claimed['claimed']['token']}"}
        got = api.get("/execution/connections", params=params, headers=run).json()
        assert got == {
            "conn_id": "stored_db", "conn_type": "postgres", "description": None, "host": "h", "login": None,
            "password": DB_PASSWORD, "schema": None, "port": None, "extra": {"a": 1},
        }  # fmt: skip
        wrong_key = api.get("/execution/connections", params={"conn_id": "other_key"}, headers=run)
        assert wrong_key.status_code == 400
        assert "connection 'other_key', field 'password'" in wrong_key.json()["detail"]
        assert "pw-of-other-key" not in wrong_key.text
        missing = api.get("/execution/connections", params={"conn_id": "nope"}, headers=run)
        assert missing.status_code == 404 and "connection 'nope' is not defined" in missing.json()["detail"]
        ended = api.post("/execution/try/finish", json={"outcome": "success"}, headers=run).json()
        callbacks = {"Authorization": f"Bearer {ended['ended']['token']}"}
        assert api.get("/execution/connections", params=params, headers=callbacks).json()["host"] == "h"


@SQLITE_ONLY
def test_tasks_test_reads_connections_and_masks_them(
    runner_env: RunnerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    with transaction(runner_env.factory) as session:
        stored = Connection(
            "stored_db", conn_type="postgres", host="db.internal", login="app", password=DB_PASSWORD,
            extra={"api_token": API_TOKEN},
        )  # fmt: skip
        set_connection(session=session, connection=stored, cipher=FieldCipher(key))
    env = {
        **runner_env.env,
        "TRADEWIND__CORE__FERNET_KEY": key,
        "TRADEWIND_CONN_ENV_API": json.dumps({"conn_type": "http", "login": "bot", "password": ENV_PASSWORD}),
    }
    done = subprocess.run(
        [TRADEWIND, "tasks", "test", DAG_ID, "read_connections"], env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "stored: postgres://app:***@db.internal" in output and "env: login bot password ***" in output
    for secret in (DB_PASSWORD, API_TOKEN, ENV_PASSWORD):
        assert secret not in output
