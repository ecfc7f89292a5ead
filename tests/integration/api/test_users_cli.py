"""`tradewind users ...` and the first admin that standalone creates."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import ON_SQLITE_ONLY
from tradewind.actions.accounts import ensure_admin_user
from tradewind.actions.passwords import verify_password
from tradewind.cli.main import main
from tradewind.config.settings import Settings
from tradewind.store import api_tokens, users
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.migrate import upgrade


@pytest.fixture
def factory(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings.database_url)
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_users_commands(factory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["users", "create", "--username", "ann", "--role", "op", "--password-stdin"]) == 0
    assert main(["users", "create", "--username", "ann", "--role", "op", "--password", "another-1"]) == 1
    assert main(["users", "create", "--username", "bob", "--role", "root", "--password", "x" * 10]) == 2
    assert main(["users", "create", "--username", "bob", "--role", "viewer", "--password", "short"]) == 2
    capsys.readouterr()
    assert main(["users", "list", "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["username"], u["role"]) for u in listed] == [("ann", "op")]

    assert main(["users", "reset-password", "--username", "ann", "--password", "n3w-password"]) == 0
    with factory() as session:
        stored = users.get_user(session=session, username="ann").password_hash
    assert verify_password(stored, "n3w-password") and "n3w-password" not in stored

    capsys.readouterr()
    assert main(["users", "create-token", "--username", "ann", "--name", "ci", "--expires-days", "30"]) == 0
    token = capsys.readouterr().out.strip()
    with factory() as session:
        rows = api_tokens.list_tokens(session=session)
    assert token.startswith("tw_") and len(rows) == 1 and rows[0].token_hash != token and rows[0].expires_at

    assert main(["users", "delete", "--username", "ann"]) == 0
    assert main(["users", "delete", "--username", "ann"]) == 1
    with factory() as session:
        assert api_tokens.list_tokens(session=session) == []


@ON_SQLITE_ONLY
def test_first_admin_from_the_environment(
    settings: Settings, factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRADEWIND_ADMIN_USER", "root_admin")
    monkeypatch.setenv("TRADEWIND_ADMIN_PASSWORD", "from-the-env-1")
    assert ensure_admin_user(settings, factory) is None
    with factory() as session:
        admin = users.get_user(session=session, username="root_admin")
    assert admin.role == "admin" and verify_password(admin.password_hash, "from-the-env-1")
    monkeypatch.setenv("TRADEWIND_ADMIN_PASSWORD", "changed-later-1")
    assert ensure_admin_user(settings, factory) is None  # users exist: nothing changes
    with factory() as session:
        assert verify_password(
            users.get_user(session=session, username="root_admin").password_hash, "from-the-env-1"
        )


@ON_SQLITE_ONLY
def test_first_admin_with_a_generated_password(
    settings: Settings, factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TRADEWIND_ADMIN_USER", raising=False)
    monkeypatch.delenv("TRADEWIND_ADMIN_PASSWORD", raising=False)
    generated = ensure_admin_user(settings, factory)
    assert generated and len(generated) >= 16
    with factory() as session:
        assert verify_password(users.get_user(session=session, username="admin").password_hash, generated)
    assert ensure_admin_user(settings, factory) is None
