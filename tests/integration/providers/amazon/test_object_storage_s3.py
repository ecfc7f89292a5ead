"""ObjectStoragePath on s3:// against moto's S3 server, with credentials and endpoint from an ``aws`` connection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.integration.providers.conftest import S3Store
from tradewind.sdk.errors import ConnectionFieldError, NotFoundError
from tradewind.sdk.io import ObjectStoragePath
from tradewind.sdk.io.store import detach_all
from tradewind.sdk.runtime import InMemoryRuntime


@pytest.fixture(autouse=True)
def fresh_stores() -> Iterator[None]:
    detach_all()
    yield
    detach_all()


@pytest.fixture
def bucket(store_conn: S3Store) -> ObjectStoragePath:
    """A new bucket, made through the path API (``mkdir`` on a bucket root creates the bucket)."""
    root = ObjectStoragePath(f"s3://store@objects-{uuid.uuid4().hex[:10]}/")
    assert not root.exists()
    root.mkdir(exist_ok=True)
    return root


def _boto_keys(store: S3Store, bucket: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=store.url,
        region_name="us-east-1",
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
    )
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_write_read_list_glob_and_delete(bucket: ObjectStoragePath, store_conn: S3Store) -> None:
    report = bucket / "reports" / "2024-03-05.csv"
    with report.open("wb") as handle:
        handle.write(b"day,orders\n2024-03-05,17\n")
    assert report.read_bytes() == b"day,orders\n2024-03-05,17\n"
    (bucket / "reports" / "notes.txt").write_text("checked", encoding="utf-8")
    with (bucket / "reports" / "notes.txt").open("r") as handle:
        assert handle.read() == "checked"
    assert _boto_keys(store_conn, bucket.bucket) == ["reports/2024-03-05.csv", "reports/notes.txt"]

    folder = bucket / "reports"
    assert folder.is_dir() and report.is_file() and report.exists()
    assert sorted(p.key for p in folder.iterdir()) == ["reports/2024-03-05.csv", "reports/notes.txt"]
    assert [p.name for p in bucket.glob("reports/*.csv")] == ["2024-03-05.csv"]
    assert all(p.conn_id == "store" for p in folder.iterdir())
    assert report.stat().st_size == report.size() == len(b"day,orders\n2024-03-05,17\n")
    assert report.stat().st_mtime > 0

    report.unlink()
    assert not report.exists()
    assert _boto_keys(store_conn, bucket.bucket) == ["reports/notes.txt"]


def test_copy_s3_to_local_and_local_to_s3(bucket: ObjectStoragePath, tmp_path: Path) -> None:
    source = bucket / "in" / "data.bin"
    payload = bytes(range(256)) * 4096  # 1 MiB
    source.write_bytes(payload)

    local = source.copy(ObjectStoragePath(str(tmp_path)))  # onto a local folder: keeps its name
    assert local == ObjectStoragePath(str(tmp_path / "data.bin"))
    assert (tmp_path / "data.bin").read_bytes() == payload

    (tmp_path / "upload.txt").write_text("from disk")
    uploaded = ObjectStoragePath(str(tmp_path / "upload.txt")).copy(bucket / "out" / "upload.txt")
    assert uploaded.read_text() == "from disk"

    same_store = uploaded.copy(bucket / "archive/")
    assert same_store.key == "archive/upload.txt" and same_store.read_text() == "from disk"
    moved = same_store.move(bucket / "archive" / "renamed.txt")
    assert moved.read_text() == "from disk" and not same_store.exists()

    back_home = moved.move(ObjectStoragePath(str(tmp_path / "home" / "renamed.txt")))
    assert (tmp_path / "home" / "renamed.txt").read_text() == "from disk" and not moved.exists()
    assert back_home.protocol == "file"


def test_a_missing_connection_fails_on_first_use_naming_it(
    s3_store: S3Store, runtime: InMemoryRuntime
) -> None:
    path = ObjectStoragePath("s3://nowhere_conn@bucket/") / "key.txt"  # fine at parse time
    with pytest.raises(NotFoundError, match="connection 'nowhere_conn' is not defined"):
        path.read_text()


def test_a_bad_connection_field_names_the_connection_not_the_secret(
    s3_store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "TRADEWIND_CONN_BROKEN_S3",
        '{"conn_type": "aws", "login": "AKIA", "password": "very-secret-value", "extra": {"service_config": 3}}',
    )
    with pytest.raises(ConnectionFieldError) as info:
        ObjectStoragePath("s3://broken_s3@bucket/key").exists()
    assert "broken_s3" in str(info.value) and "very-secret-value" not in str(info.value)


def test_wrong_credentials_are_refused_by_the_store(
    s3_store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_WRONG_KEYS", S3Store(s3_store.url, "AKIAWRONG", "nope").connection())
    with pytest.raises(PermissionError):
        ObjectStoragePath("s3://wrong_keys@some-bucket/key.txt").write_text("x")
