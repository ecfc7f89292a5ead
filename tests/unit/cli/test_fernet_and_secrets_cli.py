"""`tradewind rotate-fernet-key` and `tradewind variables get` through the secrets backends, in process
(``main(argv)``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.cli.console import CliResult, run_cli
from tradewind.config.settings import load_settings
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError
from tradewind.store.connections import get_connection, set_connection
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.migrate import upgrade
from tradewind.store.variables import set_variable

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def tradewind(*args: str, **env: str) -> CliResult:
    return run_cli(*args, env=env)


@pytest.fixture
def sessions(tw_home: Path) -> sessionmaker[Session]:
    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    return make_session_factory(engine)


def test_rotate_fernet_key(sessions: sessionmaker[Session]) -> None:
    stored = Connection("db", conn_type="postgres", host="h", password="pw-123456", extra={"k": "v"})
    with transaction(sessions) as session:
        set_connection(session=session, connection=stored, cipher=FieldCipher(OLD))
    done = tradewind("rotate-fernet-key", TRADEWIND__CORE__FERNET_KEY=f"{NEW},{OLD}")
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 connection(s)" in done.stdout
    with transaction(sessions) as session:
        assert get_connection(session=session, conn_id="db", cipher=FieldCipher(NEW)) == stored
        with pytest.raises(ConnectionFieldError):
            get_connection(session=session, conn_id="db", cipher=FieldCipher(OLD))
    # Without a key (or with one that opens nothing) it fails naming the setting / connection, not a secret.
    no_key = tradewind("rotate-fernet-key")
    assert no_key.returncode == 2 and "TRADEWIND__CORE__FERNET_KEY" in no_key.stderr
    wrong = tradewind("rotate-fernet-key", TRADEWIND__CORE__FERNET_KEY=OLD)
    assert wrong.returncode == 1 and "connection 'db', field 'password'" in wrong.stderr
    assert "pw-123456" not in no_key.stderr + wrong.stderr


def test_variables_get_reads_the_secrets_backends_first(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        set_variable(session=session, key="bucket", value="db-bucket")
    folder = tmp_path / "variables"
    folder.mkdir()
    (folder / "bucket").write_text("mounted-bucket\n")
    assert tradewind("variables", "get", "bucket").stdout == "db-bucket\n"
    mounted = {"TRADEWIND__SECRETS__VARIABLES_PATH": str(folder)}
    assert tradewind("variables", "get", "bucket", **mounted).stdout == "mounted-bucket\n"
    assert (
        tradewind("variables", "get", "bucket", TRADEWIND_VAR_BUCKET="env-bucket", **mounted).stdout
        == "env-bucket\n"
    )
    missing = tradewind("variables", "get", "nope", **mounted)
    assert missing.returncode == 1 and "variable 'nope' does not exist" in missing.stderr
