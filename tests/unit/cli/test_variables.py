"""`tradewind variables ...` in process (``main(argv)``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.cli.console import tradewind
from tradewind.config.settings import load_settings
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import upgrade
from tradewind.store.variables import delete_variable, get_variable, set_variable


@pytest.fixture
def sessions(tw_home: Path) -> sessionmaker[Session]:
    """The home's database, migrated in this process; the commands under test open it themselves."""
    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    return make_session_factory(engine)


def test_set_get_list_delete(sessions: sessionmaker[Session]) -> None:
    assert tradewind("variables", "set", "region", "eu-west-1", "--description", "where").returncode == 0
    assert tradewind("variables", "set", "cfg", '{"retries": 3}', "--json").returncode == 0
    with transaction(sessions) as session:
        assert get_variable(session=session, key="region").description == "where"
        set_variable(session=session, key="db_password", value="hunter2")

    assert tradewind("variables", "get", "region").stdout == "eu-west-1\n"
    assert json.loads(tradewind("variables", "get", "cfg", "--json").stdout) == {"retries": 3}

    rows = json.loads(tradewind("variables", "list", "-o", "json").stdout)
    assert [r["key"] for r in rows] == ["cfg", "db_password", "region"]
    assert set(rows[0]) == {"key", "value", "description"}
    assert (rows[0]["value"], rows[2]["description"]) == ('{"retries": 3}', "where")
    # A secret-looking variable is masked in listings (it stays readable by name).
    assert rows[1]["value"] == "***"
    table = tradewind("variables", "list").stdout
    assert "eu-west-1" in table and "hunter2" not in table

    assert tradewind("variables", "delete", "region").returncode == 0
    missing = tradewind("variables", "get", "region")
    assert missing.returncode == 1
    assert "'region'" in missing.stderr
    assert tradewind("variables", "get", "region", "--default", "none").stdout == "none\n"


def test_invalid_json_and_bad_arguments_exit_2(sessions: sessionmaker[Session]) -> None:
    bad = tradewind("variables", "set", "cfg", "{oops", "--json")
    assert bad.returncode == 2
    assert "'cfg'" in bad.stderr
    assert tradewind("variables", "set", "only-key").returncode == 2


def test_export_then_import_restores_every_value(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    values = {"count": "42", "greeting": "hello", "cfg": '{"a": [1, 2]}'}
    with transaction(sessions) as session:
        for key, value in values.items():
            set_variable(session=session, key=key, value=value)
    exported = tmp_path / "vars.json"
    assert tradewind("variables", "export", str(exported)).returncode == 0
    assert json.loads(exported.read_text()) == {"cfg": {"a": [1, 2]}, "count": 42, "greeting": "hello"}
    assert json.loads(tradewind("variables", "export", "-").stdout) == json.loads(exported.read_text())

    with transaction(sessions) as session:
        for key in values:
            delete_variable(session=session, key=key)
    imported = tradewind("variables", "import", str(exported))
    assert imported.returncode == 0
    assert "3 variable(s) imported" in imported.stdout
    with transaction(sessions) as session:
        assert {key: get_variable(session=session, key=key).val for key in values} == values


def test_import_of_a_bad_file(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    result = tradewind("variables", "import", str(not_object))
    assert result.returncode == 2
    assert "list.json" in result.stderr
    missing = tradewind("variables", "import", str(tmp_path / "absent.json"))
    assert missing.returncode == 1
    assert "absent.json" in missing.stderr


def test_before_migrate_the_error_says_what_to_do(tw_home: Path) -> None:
    result = tradewind("variables", "list")
    assert result.returncode == 1
    assert "tradewind db migrate" in result.stderr
    assert "Traceback" not in result.stderr
