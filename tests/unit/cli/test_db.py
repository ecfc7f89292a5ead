"""`tradewind db migrate|reset|check` in process (``main(argv)``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.console import tradewind
from tradewind.config.settings import Settings, load_settings
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import HEAD_REVISION, upgrade
from tradewind.store.variables import get_variable, list_variables, set_variable


def test_migrate_then_check_on_each_backend(settings: Settings) -> None:
    before = tradewind("db", "check")
    assert before.returncode == 1
    assert "tradewind db migrate" in before.stderr

    migrated = tradewind("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert f"upgraded from empty to revision {HEAD_REVISION}" in migrated.stdout

    assert tradewind("db", "migrate").stdout.strip().endswith(f"already at revision {HEAD_REVISION}")
    after = tradewind("db", "check")
    assert (after.returncode, after.stderr) == (0, "")
    assert f"up to date at {HEAD_REVISION}" in after.stdout


def test_check_says_when_the_schema_is_behind(tw_home: Path) -> None:
    upgrade(make_engine(load_settings().database_url), "0001")
    check = tradewind("db", "check")
    assert check.returncode == 1
    assert f"at 0001, head is {HEAD_REVISION}" in check.stderr


def test_check_reports_an_unreachable_database_without_its_password(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", "postgresql://ada:hunter2@127.0.0.1:1/tradewind")
    check = tradewind("db", "check")
    assert check.returncode == 1
    assert "unreachable" in check.stderr
    assert "postgresql://ada:***@127.0.0.1:1/tradewind" in check.stderr
    assert "hunter2" not in check.stderr + check.stdout


def test_reset_asks_first_and_drops_data_with_yes(tw_home: Path) -> None:
    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        set_variable(session=session, key="kept", value="1")

    refused = tradewind("db", "reset", stdin="no\n")
    assert refused.returncode == 1
    assert "aborted" in refused.stderr
    with transaction(sessions) as session:
        assert get_variable(session=session, key="kept").val == "1"

    done = tradewind("db", "reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert f"reset to revision {HEAD_REVISION}" in done.stdout
    with transaction(sessions) as session:
        assert list_variables(session=session) == ([], 0)


def test_bad_arguments_exit_2(tw_home: Path) -> None:
    assert tradewind("db").returncode == 2
    assert tradewind("db", "upgrade-everything").returncode == 2
