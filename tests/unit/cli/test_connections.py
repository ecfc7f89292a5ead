"""`tradewind connections ...` in process (``main(argv)``): add, get, list, delete, export, import and
test (with a user's own hook from the plugins folder), audit entries, and no secret in any output."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.cli.console import CliResult, run_cli
from tradewind.config.settings import load_settings
from tradewind.sdk.connection import Connection
from tradewind.store import audit
from tradewind.store.connections import delete_connection, get_connection, set_connection
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.migrate import upgrade

KEY = Fernet.generate_key().decode()
SECRET, TOKEN = "pw-Cli-31337", "tok-Cli-2718"
URI = f"postgresql://etl:{SECRET}@db.internal:5432/sales?sslmode=require&api_token={TOKEN}"

PLUGIN_HOOK = """
from tradewind.sdk.hooks import BaseHook


class ThingHook(BaseHook):
    conn_name_attr = "thing_conn_id"
    default_conn_name = "thing_default"
    conn_type = "thing"
    hook_name = "Thing"

    def __init__(self, thing_conn_id=default_conn_name):
        super().__init__()
        self.thing_conn_id = thing_conn_id

    def test_connection(self):
        conn = self.get_connection(self.thing_conn_id)
        if conn.password != "right":
            raise PermissionError(f"{conn.host} refused password {conn.password}")
        return True, f"{conn.host} answered"
"""


def tradewind(*args: str, key: str | None = KEY, **env: str) -> CliResult:
    if key:
        env["TRADEWIND__CORE__FERNET_KEY"] = key
    return run_cli(*args, env=env)


@pytest.fixture
def sessions(tw_home: Path) -> sessionmaker[Session]:
    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    return make_session_factory(engine)


def read(sessions: sessionmaker[Session], conn_id: str, key: str = KEY) -> Connection:
    with transaction(sessions) as session:
        return get_connection(session=session, conn_id=conn_id, cipher=FieldCipher(key))


def test_add_get_list_delete_and_audit(sessions: sessionmaker[Session]) -> None:
    outputs = []
    added = tradewind("connections", "add", "warehouse", "--conn-uri", URI)
    assert added.returncode == 0, added.stderr
    assert "no hook is known for conn_type 'postgres'" in added.stderr or added.stderr == ""
    fields = tradewind(
        "connections", "add", "api", "--conn-type", "http", "--conn-host", "api.example.com", "--conn-port", "443",
        "--conn-password", SECRET, "--conn-extra", '{"verify": true}', "--conn-description", "the API",
    )  # fmt: skip
    assert fields.returncode == 0, fields.stderr
    assert read(sessions, "warehouse") == Connection("warehouse", uri=URI)
    assert (read(sessions, "api").port, read(sessions, "api").description) == (443, "the API")

    listed = tradewind("connections", "list", "-o", "json")
    rows = {r["conn_id"]: r for r in json.loads(listed.stdout)}
    assert (
        rows["warehouse"]["extra"] == {"sslmode": "require", "api_token": "***"}
        and "password" not in rows["api"]
    )
    got = tradewind("connections", "get", "warehouse", "-o", "json")
    shown = json.loads(got.stdout)[0]
    assert (shown["password"], shown["host"], shown["extra"]["api_token"]) == ("***", "db.internal", "***")
    assert shown["uri"] == "postgres://etl:***@db.internal:5432/sales?sslmode=require&api_token=***"
    outputs += [
        added,
        fields,
        listed,
        got,
        tradewind("connections", "list"),
        tradewind("connections", "get", "api"),
    ]
    outputs.append(tradewind("connections", "get", "warehouse", "-o", "yaml"))
    for output in outputs:
        assert SECRET not in output.stdout + output.stderr and TOKEN not in output.stdout + output.stderr
    clear = tradewind("connections", "get", "warehouse", "-o", "json", "--show-secrets")
    assert json.loads(clear.stdout)[0]["password"] == SECRET

    # The environment comes first, as for task code.
    from_env = tradewind(
        "connections", "get", "warehouse", "-o", "json", TRADEWIND_CONN_WAREHOUSE="http://other"
    )
    assert json.loads(from_env.stdout)[0]["host"] == "other"

    assert tradewind("connections", "delete", "api").returncode == 0
    missing = tradewind("connections", "delete", "api")
    assert missing.returncode == 1 and "connection 'api' is not defined" in missing.stderr
    with transaction(sessions) as session:
        entries, _total = audit.list_audit(session=session)
    trail = [(e.event, (e.extra or {}).get("conn_id"), (e.extra or {}).get("via")) for e in entries]
    assert trail == [
        ("connection_delete", "api", "cli"),
        ("connection_create", "api", "cli"),
        ("connection_create", "warehouse", "cli"),
    ]
    assert all(e.owner for e in entries) and SECRET not in str([e.extra for e in entries])


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["add", "x", "--conn-uri", f"postgres://u:{SECRET}@h:99999/db"], 1, "connection 'x', field 'port'"),
        (["add", "x", "--conn-json", f'{{"conn_type": "http", "port": "80x", "password": "{SECRET}"}}'], 1,
         "connection 'x', field 'port'"),
        (["add", "x", "--conn-json", f"{{oops {SECRET}"], 1, "connection 'x', field 'json'"),
        (["add", "x", "--conn-type", "http", "--conn-extra", f'["{SECRET}"]'], 1, "connection 'x', field 'extra'"),
        (["add", "x", "--conn-uri", "http://h", "--conn-host", "h"], 2, "connection 'x': give one of"),
        (["add", "x", "--conn-password", SECRET], 2, "connection 'x': give --conn-uri"),
        (["add", "bad id", "--conn-type", "http"], 2, "connection id 'bad id'"),
        (["add"], 2, "conn_id"),
        (["get", "nope"], 1, "connection 'nope' is not defined"),
        (["test", "nope"], 1, "connection 'nope' is not defined"),
    ],
)  # fmt: skip
def test_bad_input_names_the_connection_and_field(
    sessions: sessionmaker[Session], args: list[str], code: int, names: str
) -> None:
    result = tradewind("connections", *args)
    assert result.returncode == code, result.stderr
    assert names in result.stderr and SECRET not in result.stderr and "Traceback" not in result.stderr


def test_without_a_key_or_with_a_wrong_one(sessions: sessionmaker[Session]) -> None:
    no_key = tradewind("connections", "add", "db", "--conn-uri", URI, key=None)
    assert no_key.returncode == 2
    assert "connection 'db': refusing to store its password in clear" in no_key.stderr
    assert "TRADEWIND__CORE__FERNET_KEY" in no_key.stderr and SECRET not in no_key.stderr
    assert tradewind("connections", "add", "db", "--conn-uri", URI).returncode == 0
    wrong = tradewind("connections", "list", key=Fernet.generate_key().decode())
    assert wrong.returncode == 1 and "connection 'db', field 'password'" in wrong.stderr
    assert SECRET not in wrong.stderr + wrong.stdout


def test_export_then_import_restores_every_connection(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    originals = [
        Connection("warehouse", uri=URI),
        Connection(
            "api", conn_type="http", host="h", port=443, password="p@ss/w:rd", extra={"n": [1, {"a": True}]}
        ),
        Connection("bare", conn_type="sqlite", host="/tmp/x.db", description="no secrets"),
    ]
    with transaction(sessions) as session:
        for connection in originals:
            set_connection(session=session, connection=connection, cipher=FieldCipher(KEY))
    files = {"json": tmp_path / "c.json", "yaml": tmp_path / "c.yml", "env-json": tmp_path / "j.env"}
    for target in files.values():
        done = tradewind("connections", "export", str(target), "--serialization-format", "json")
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(target.stat().st_mode) == 0o600 and SECRET not in done.stdout
    uri_lines = tradewind("connections", "export", "-", "--file-format", "env").stdout
    assert f"warehouse={Connection('warehouse', uri=URI).get_uri()}" in uri_lines.splitlines()
    for name, target in files.items():
        with transaction(sessions) as session:
            for connection in originals:
                delete_connection(session=session, conn_id=connection.conn_id or "")
        imported = tradewind("connections", "import", str(target))
        assert imported.returncode == 0, imported.stderr
        assert "3 connection(s) added, 0 replaced, 0 skipped" in imported.stdout
        for connection in originals:
            assert read(sessions, connection.conn_id or "") == connection, name
    again = tradewind("connections", "import", str(files["json"]))
    assert "0 connection(s) added, 0 replaced, 3 skipped" in again.stdout
    assert "3 replaced" in tradewind("connections", "import", str(files["yaml"]), "--overwrite").stdout


def test_import_of_a_bad_file_stores_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    bad = tmp_path / "conns.json"
    bad.write_text(
        json.dumps({"good": "http://h", "broken": {"conn_type": "http", "port": "x", "password": SECRET}})
    )
    result = tradewind("connections", "import", str(bad))
    assert result.returncode == 1 and "connection 'broken', field 'port'" in result.stderr
    assert SECRET not in result.stderr
    listed = tradewind("connections", "list", "-o", "json")
    assert json.loads(listed.stdout) == []
    unknown = tmp_path / "conns.txt"
    unknown.write_text("x=http://h\n")
    assert tradewind("connections", "import", str(unknown)).returncode == 2


def test_test_builds_the_users_own_hook_from_the_plugins_folder(
    sessions: sessionmaker[Session], tw_home: Path
) -> None:
    (tw_home / "plugins").mkdir()
    (tw_home / "plugins" / "thing_hook.py").write_text(PLUGIN_HOOK)
    added = tradewind(
        "connections",
        "add",
        "thing1",
        "--conn-type",
        "thing",
        "--conn-host",
        "t.local",
        "--conn-password",
        "right",
    )
    assert added.returncode == 0 and added.stderr == ""  # the plugin's hook is known: no warning
    ok = tradewind("connections", "test", "thing1")
    assert ok.returncode == 0, ok.stderr
    assert "connection 'thing1': test succeeded: t.local answered" in ok.stdout
    refused = tradewind("connections", "test", "thing2", TRADEWIND_CONN_THING2="thing://u:wrong-Pw@t2.local")
    assert refused.returncode == 1
    assert (
        "connection 'thing2': test failed: PermissionError: t2.local refused password ***" in refused.stderr
    )
    assert "wrong-Pw" not in refused.stderr
    no_hook = tradewind("connections", "test", "x", TRADEWIND_CONN_X="nohook://h")
    assert no_hook.returncode == 1 and "no hook is known for conn_type 'nohook'" in no_hook.stderr
