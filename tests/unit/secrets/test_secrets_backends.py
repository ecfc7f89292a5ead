"""The secrets backends in lookup order (environment, the user's backend, mounted files, the database), for
connections and variables, on the DbRuntime task code reaches through the execution API."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from tests.migrated_databases import migrate_database
from tests.unit.compat.conftest import forget_airflow_modules
from tradewind.compat.airflow.activation import installed_finder
from tradewind.config.settings import Settings, load_settings
from tradewind.dag_processing.parse_runtime import ParseTimeRuntime
from tradewind.execution.db_runtime import DbRuntime
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConfigError, NotFoundError
from tradewind.sdk.runtime import use_runtime
from tradewind.secrets import secrets_chain
from tradewind.store.connections import set_connection
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.variables import set_variable

BACKEND_MODULE = """
from airflow.secrets import BaseSecretsBackend


class TeamVault(BaseSecretsBackend):
    def __init__(self, prefix, values):
        self.prefix = prefix
        self.values = values

    def get_conn_value(self, conn_id):
        return self.values.get(self.prefix + conn_id)

    def get_variable(self, key):
        return self.values.get(self.prefix + "var/" + key)
"""


@pytest.fixture(autouse=True)
def no_airflow_names_left() -> Iterator[None]:
    """A user backend importing ``airflow.secrets`` makes the chain serve Airflow's names: remove them after."""
    yield
    finder = installed_finder()
    if finder is not None:
        sys.meta_path.remove(finder)
    forget_airflow_modules()


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    migrate_database(settings.database_url)
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def configured(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: sessionmaker[Session]
) -> Settings:
    """A user backend (a real module on a path this test makes), a mounted-files folder and a Fernet key."""
    package = tmp_path / "user_code" / "team_secrets"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "vault.py").write_text(textwrap.dedent(BACKEND_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path / "user_code"))
    conns, variables = tmp_path / "mounted" / "connections", tmp_path / "mounted" / "variables"
    conns.mkdir(parents=True)
    variables.mkdir(parents=True)
    values = {
        "team/vault_db": "postgres://vault-user:vault-pw@vault-host/db",
        "team/everywhere": "http://from-vault",
        "team/var/region": "vault-region",
    }
    monkeypatch.setenv("TRADEWIND__SECRETS__BACKEND", "team_secrets.vault.TeamVault")
    monkeypatch.setenv(
        "TRADEWIND__SECRETS__BACKEND_KWARGS", json.dumps({"prefix": "team/", "values": values})
    )
    monkeypatch.setenv("TRADEWIND__SECRETS__CONNECTIONS_PATH", str(conns))
    monkeypatch.setenv("TRADEWIND__SECRETS__VARIABLES_PATH", str(variables))
    monkeypatch.setenv("TRADEWIND__CORE__FERNET_KEY", Fernet.generate_key().decode())
    (conns / "file_db").write_text('{"conn_type": "mysql", "host": "file-host", "password": "file-pw"}\n')
    (conns / "everywhere").write_text("http://from-file")
    (variables / "bucket").write_text("file-bucket\n")
    (variables / "region").write_text("file-region")
    keyed = load_settings()
    with transaction(factory) as session:
        cipher = FieldCipher.from_settings(keyed)
        for conn_id, host in (("stored_db", "db-host"), ("everywhere", "from-db")):
            set_connection(
                session=session,
                connection=Connection(conn_id, conn_type="postgres", host=host, password="db-pw"),
                cipher=cipher,
            )
        set_variable(session=session, key="bucket", value="db-bucket")
        set_variable(session=session, key="stored_only", value="db-value")
    return keyed


def test_lookup_order_env_backend_files_database(
    configured: Settings, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = DbRuntime(factory, secrets=secrets_chain(configured, factory))
    host = lambda conn_id: (runtime.get_connection(conn_id) or {}).get("host")  # noqa: E731
    assert runtime.get_connection("vault_db") == {
        "conn_id": "vault_db", "conn_type": "postgres", "description": None, "host": "vault-host",
        "login": "vault-user", "password": "vault-pw", "schema": "db", "port": None, "extra": {},
    }  # fmt: skip
    assert (host("file_db"), runtime.get_connection("file_db")["password"]) == ("file-host", "file-pw")  # type: ignore[index]
    assert runtime.get_connection("stored_db")["password"] == "db-pw"  # type: ignore[index]
    assert host("everywhere") == "from-vault"  # the user's backend before files and the database
    assert runtime.get_connection("nowhere") is None
    assert runtime.get_variable("region") == "vault-region"
    assert runtime.get_variable("bucket") == "file-bucket"  # files before the database; newline dropped
    assert runtime.get_variable("stored_only") == "db-value"
    assert runtime.get_variable("missing") is None

    monkeypatch.setenv("TRADEWIND_CONN_EVERYWHERE", '{"conn_type": "http", "host": "from-env"}')
    monkeypatch.setenv("TRADEWIND_VAR_BUCKET", "env-bucket")
    assert host("everywhere") == "from-env"  # the environment first
    assert runtime.get_variable("bucket") == "env-bucket"


def test_airflow_env_names_only_with_compat(
    settings: Settings, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LEGACY", "http://legacy")
    monkeypatch.setenv("AIRFLOW_VAR_LEGACY", "legacy-var")
    chain = secrets_chain(settings, factory)
    assert (chain.get_connection("legacy").host, chain.get_variable("legacy")) == ("legacy", "legacy-var")  # type: ignore[union-attr]
    monkeypatch.setenv("TRADEWIND__CORE__AIRFLOW_COMPAT", "false")
    off = secrets_chain(load_settings(), factory)
    assert (off.get_connection("legacy"), off.get_variable("legacy")) == (None, None)


def test_mounted_files_ignore_ids_that_leave_the_folder(configured: Settings, tmp_path: Path) -> None:
    (tmp_path / "mounted" / "outside").write_text("http://outside")
    chain = secrets_chain(configured, None)
    assert chain.get_connection("../outside") is None
    assert chain.get_connection(".hidden") is None


@pytest.mark.parametrize(
    ("backend", "kwargs", "match"),
    [
        ("no_such_pkg.Backend", "{}", "cannot be imported"),
        ("team_secrets.vault.TeamVault", "{not json", "backend_kwargs is not valid JSON"),
        ("team_secrets.vault.TeamVault", '{"wrong": "s3cr3t-kwarg"}', r"could not be built .*TypeError"),
        ("json.JSONDecoder", "{}", "has no get_connection"),
    ],
)
def test_a_bad_backend_setting_is_a_config_error(
    configured: Settings, monkeypatch: pytest.MonkeyPatch, backend: str, kwargs: str, match: str
) -> None:
    monkeypatch.setenv("TRADEWIND__SECRETS__BACKEND", backend)
    monkeypatch.setenv("TRADEWIND__SECRETS__BACKEND_KWARGS", kwargs)
    with pytest.raises(ConfigError, match=match) as info:
        secrets_chain(load_settings(), None)
    assert "s3cr3t-kwarg" not in str(info.value)


def test_dag_files_read_connections_while_parsed(configured: Settings) -> None:
    """``Connection.get`` in a DAG file at parse time: the same backends, the database decrypted with the key."""
    runtime = ParseTimeRuntime(configured.database_url, configured)
    with use_runtime(runtime):
        assert Connection.get("stored_db").password == "db-pw"
        assert Connection.get("file_db").host == "file-host"
        with pytest.raises(NotFoundError, match="connection 'nowhere' is not defined"):
            Connection.get("nowhere")
