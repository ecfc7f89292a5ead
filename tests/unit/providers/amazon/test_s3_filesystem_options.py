"""The s3fs options an ``aws`` connection gives ObjectStoragePath (no network: the filesystem is only built)."""

from __future__ import annotations

import json
import sys

import pytest

from tradewind.providers.amazon.aws.fs.s3 import get_fs, storage_options_for
from tradewind.sdk.errors import MissingDependencyError


def _connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(f"TRADEWIND_CONN_{conn_id.upper()}", json.dumps({"conn_type": "aws", **fields}))


def test_keys_endpoint_region_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    _connection(
        monkeypatch,
        "lake",
        login="AKIAEXAMPLE",
        password="secret-example",
        extra={
            "aws_session_token": "token-example",
            "region_name": "eu-west-1",
            "service_config": {"s3": {"endpoint_url": "https://minio.internal:9000"}},
            "verify": False,
            "config_kwargs": {"s3": {"addressing_style": "path"}},
        },
    )
    assert storage_options_for("lake") == {
        "key": "AKIAEXAMPLE",
        "secret": "secret-example",
        "token": "token-example",
        "endpoint_url": "https://minio.internal:9000",
        "client_kwargs": {"region_name": "eu-west-1", "verify": False},
        "config_kwargs": {"s3": {"addressing_style": "path"}},
    }


def test_the_default_region_goes_to_botocore_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """s3fs would name it as a new bucket's LocationConstraint, which S3 refuses for us-east-1."""
    _connection(monkeypatch, "east", extra={"aws_access_key_id": "AKIA2", "region_name": "us-east-1"})
    assert storage_options_for("east") == {"key": "AKIA2", "config_kwargs": {"region_name": "us-east-1"}}


def test_no_connection_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    assert storage_options_for(None) == {}
    _connection(monkeypatch, "plain", login="AKIA3", password="s3")
    fs = get_fs("plain", {"endpoint_url": "http://127.0.0.1:1"})
    assert fs.endpoint_url == "http://127.0.0.1:1" and fs.key == "AKIA3"


def test_without_s3fs_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # makes `import s3fs` fail as if it were not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'tradewind\[amazon\]'") as info:
        get_fs(None)
    assert info.value.package == "s3fs"
