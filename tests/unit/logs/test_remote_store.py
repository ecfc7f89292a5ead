"""The fsspec log store: keys under the base folder, ranged reads, connections looked up per use, clear errors
that never show a secret."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tradewind.config.settings import Settings
from tradewind.logs.remote_store import FsspecLogStore, remote_log_store
from tradewind.sdk.errors import ConfigError, ExternalSystemError
from tradewind.sdk.io.filesystems import _REGISTERED, register_filesystem

KEY = PurePosixPath("dag_id=d/run_id=r/task_id=t/attempt=1.log")


def test_a_log_is_uploaded_under_its_relative_path_and_read_back_in_ranges(tmp_path: Path) -> None:
    store = FsspecLogStore(f"file://{tmp_path}/remote", conn_id=None, lookup=None)
    local = tmp_path / "attempt=1.log"
    local.write_bytes(b"one\ntwo\nthree\n")
    store.upload(local, KEY)
    assert (tmp_path / "remote" / KEY).read_bytes() == b"one\ntwo\nthree\n"
    whole = store.read(KEY, 0, -1)
    assert whole is not None and whole.data == b"one\ntwo\nthree\n" and whole.size == 14
    part = store.read(KEY, 4, 4)
    assert part is not None and part.data == b"two\n"
    past = store.read(KEY, 14, 100)
    assert past is not None and past.data == b""
    assert store.read(PurePosixPath("dag_id=d/other.log"), 0, -1) is None
    assert store.where(KEY) == f"file://{tmp_path}/remote/{KEY}"


@pytest.mark.parametrize("url", ["", "bucket/prefix", "s3://", "nope://bucket/x"])
def test_a_base_folder_that_is_no_store_url_names_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        FsspecLogStore(url, conn_id=None, lookup=None)
    assert info.value.key == "logging.remote_base_log_folder"


def test_no_store_without_a_remote_base_log_folder(tw_home: Path) -> None:
    assert remote_log_store(Settings(), None) is None
    settings = Settings.model_validate(
        {"logging": {"remote_base_log_folder": "memory://logs", "remote_log_conn_id": ""}}
    )
    store = remote_log_store(settings, None)
    assert store is not None and store.conn_id is None and store.location == "memory://logs"


class _Refusing:
    """A filesystem whose server answers every request with an error that echoes the credentials."""

    def __init__(self, password: str) -> None:
        self.password = password

    def put_file(self, _local: str, _key: str) -> None:
        raise PermissionError(f"denied for secret {self.password}")

    def info(self, _key: str) -> dict[str, Any]:
        raise ConnectionError(f"unreachable with {self.password}")


def test_the_connection_is_looked_up_at_use_and_its_secrets_never_reach_an_error(tmp_path: Path) -> None:
    seen: list[Mapping[str, Any] | None] = []

    def factory(conn_id: str | None, _options: Mapping[str, Any]) -> Any:
        from tradewind.sdk.connection import Connection

        connection = Connection.get(conn_id or "")
        seen.append(connection.to_dict())
        return _Refusing(connection.password or "")

    register_filesystem("refusing", factory)
    try:
        fields = {"conn_type": "aws", "login": "AKIA", "password": "hunter2-very-secret", "extra": {}}
        lookups: list[str] = []

        def lookup(conn_id: str) -> Mapping[str, Any] | None:
            lookups.append(conn_id)
            return fields

        store = FsspecLogStore("refusing://bucket/logs", conn_id="logs_conn", lookup=lookup)
        local = tmp_path / "a.log"
        local.write_text("x\n")
        with pytest.raises(ExternalSystemError) as upload_error:
            store.upload(local, KEY)
        with pytest.raises(ExternalSystemError) as read_error:
            store.read(KEY, 0, -1)
        for error in (upload_error.value, read_error.value):
            assert "hunter2" not in str(error) and "***" in str(error)
            assert error.conn_id == "logs_conn" and f"refusing://bucket/logs/{KEY}" in str(error)
        assert lookups == ["logs_conn", "logs_conn"]
        assert seen[0] is not None and seen[0]["login"] == "AKIA"
    finally:
        _REGISTERED.pop("refusing", None)


def test_an_undefined_connection_is_named(tmp_path: Path) -> None:
    store = FsspecLogStore("memory://logs", conn_id="missing_conn", lookup=lambda _c: None)
    with pytest.raises(ExternalSystemError, match=r"missing_conn.*remote_log_conn_id"):
        store.read(KEY, 0, -1)


def test_a_pinned_store_keeps_the_connection_it_looked_up_once() -> None:
    calls: list[str] = []

    def lookup(conn_id: str) -> Mapping[str, Any] | None:
        calls.append(conn_id)
        return {"conn_type": "generic"}

    store = FsspecLogStore("memory://pinned", conn_id="c", lookup=lookup).pinned()
    assert store.read(KEY, 0, -1) is None and store.read(KEY, 0, -1) is None
    assert calls == ["c"]

    def broken(_conn_id: str) -> Mapping[str, Any] | None:
        raise RuntimeError("the execution API is gone")

    failing = FsspecLogStore("memory://pinned", conn_id="c", lookup=broken).pinned()
    with pytest.raises(ExternalSystemError, match="the execution API is gone"):
        failing.read(KEY, 0, -1)
