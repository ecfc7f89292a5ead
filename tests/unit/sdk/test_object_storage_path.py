"""ObjectStoragePath on local files and fsspec's in-memory store: naming, the path API, copy/move, values."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.sdk.conftest import run_task, xcom
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.io import ObjectStoragePath, attach, get_fs, has_fs, register_filesystem
from tradewind.sdk.io.store import detach_all
from tradewind.sdk.runtime import InMemoryRuntime


@pytest.fixture(autouse=True)
def fresh_stores() -> Iterator[None]:
    detach_all()
    yield
    detach_all()


@pytest.fixture
def mem() -> Iterator[ObjectStoragePath]:
    """A folder of its own in the in-memory store, removed afterwards."""
    root = ObjectStoragePath(f"memory://tests-{uuid.uuid4().hex[:8]}/")
    root.mkdir(parents=True, exist_ok=True)
    yield root
    if root.exists():
        root.rmdir(recursive=True)


def test_url_parts_and_the_connection_in_the_user_part() -> None:
    base = ObjectStoragePath("s3://aws_default@airflow-tutorial-data/")
    path = base / "2024" / "air_quality.parquet"
    assert (path.protocol, path.conn_id, path.bucket, path.key) == (
        "s3",
        "aws_default",
        "airflow-tutorial-data",
        "2024/air_quality.parquet",
    )
    assert path.path == "airflow-tutorial-data/2024/air_quality.parquet"
    assert str(path) == "s3://aws_default@airflow-tutorial-data/2024/air_quality.parquet"
    assert path.namespace == "s3://airflow-tutorial-data"
    assert (path.name, path.stem, path.suffix) == ("air_quality.parquet", "air_quality", ".parquet")
    assert path.parent == base / "2024"
    assert path.with_suffix(".csv").key == "2024/air_quality.csv"
    assert base.key == "" and base.parent == base
    assert ObjectStoragePath("s3://bucket/a/", conn_id="lake").key == "a/"  # a trailing slash is kept
    assert ObjectStoragePath("s3://other@bucket/k", conn_id="lake").conn_id == "lake"  # the keyword wins
    assert ObjectStoragePath("bucket/key", protocol="s3").path == "bucket/key"
    assert ObjectStoragePath("s3://lake@bucket", "a", "b.txt").key == "a/b.txt"


def test_equality_needs_the_same_store() -> None:
    a = ObjectStoragePath("s3://lake@bucket/k")
    assert a == ObjectStoragePath("s3://bucket/k", conn_id="lake")
    assert a != ObjectStoragePath("s3://bucket/k")
    assert a.samestore(ObjectStoragePath("s3://lake@other/x"))
    assert not a.samestore(ObjectStoragePath("s3://bucket/k", conn_id="warehouse"))
    assert len({a, ObjectStoragePath(str(a))}) == 1


def test_local_paths(tmp_path: Path) -> None:
    plain = ObjectStoragePath(str(tmp_path / "data.txt"))
    assert plain.protocol == "file" and plain.bucket == "" and str(plain) == str(tmp_path / "data.txt")
    assert ObjectStoragePath(f"file://{tmp_path}/data.txt") == plain
    assert Path(plain) == tmp_path / "data.txt"  # a local path is os.PathLike
    with pytest.raises(TypeError, match="not a local path"):
        Path(ObjectStoragePath("s3://bucket/key"))  # type: ignore[arg-type]


def test_construction_does_no_io_and_needs_no_connection() -> None:
    code = (
        "import sys\n"
        "from tradewind.sdk.io import ObjectStoragePath\n"
        "p = ObjectStoragePath('s3://no_such_connection@bucket/') / 'file.parquet'\n"
        "print(p, sorted(m for m in ('fsspec', 'upath', 's3fs', 'boto3', 'botocore') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "s3://no_such_connection@bucket/file.parquet []"


def test_local_read_write_list_and_stat(tmp_path: Path) -> None:
    folder = ObjectStoragePath(f"file://{tmp_path}") / "out"
    folder.mkdir()
    with pytest.raises(FileExistsError):
        folder.mkdir()
    folder.mkdir(exist_ok=True)
    text = folder / "a.txt"
    assert text.write_text("héllo\n", encoding="utf-8") == 6
    assert text.read_text(encoding="utf-8") == "héllo\n"
    (folder / "b.bin").write_bytes(b"\x00\x01")
    with (folder / "c.csv").open("w") as handle:
        handle.write("x,y\n")
    with (folder / "c.csv").open("rb") as handle:
        assert handle.read() == b"x,y\n"
    assert (tmp_path / "out" / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.bin", "c.csv"]
    assert [p.name for p in folder.glob("*.csv")] == ["c.csv"]
    assert folder.is_dir() and not folder.is_file() and text.is_file() and text.exists()
    assert text.stat().st_size == len("héllo\n".encode()) == text.size()
    assert text.stat().st_mtime > 0 and text.stat()["protocol"] == "file"
    text.unlink()
    assert not text.exists()
    with pytest.raises(FileNotFoundError):
        text.unlink()
    text.unlink(missing_ok=True)


def test_memory_store_round_trip(mem: ObjectStoragePath) -> None:
    item = mem / "nested" / "item.json"
    item.parent.mkdir(parents=True, exist_ok=True)
    item.write_text(json.dumps({"n": 1}))
    assert json.loads(item.read_text()) == {"n": 1}
    assert item.protocol == "memory" and str(item).startswith("memory:///tests-")
    assert [p.name for p in mem.rglob("*.json")] == ["item.json"]
    checksum = item.checksum()
    item.write_text(json.dumps({"n": 2}))
    assert item.checksum() != checksum
    (mem / "nested").rmdir(recursive=True)
    assert not item.exists()


def test_copy_and_move_across_stores(mem: ObjectStoragePath, tmp_path: Path) -> None:
    source = mem / "report.csv"
    source.write_bytes(b"a,b\n1,2\n")
    local_dir = ObjectStoragePath(str(tmp_path)) / "landing"
    landed = source.copy(str(local_dir) + "/")  # a destination ending in "/" is a folder
    assert landed == local_dir / "report.csv"
    assert (tmp_path / "landing" / "report.csv").read_bytes() == b"a,b\n1,2\n"

    back = landed.copy(mem / "copied.csv")  # local -> memory, to a file name
    assert back.read_bytes() == b"a,b\n1,2\n"
    moved = back.move(mem / "moved.csv")  # same store: a rename
    assert moved.exists() and not back.exists()

    across = moved.move(ObjectStoragePath(str(tmp_path)))  # onto an existing local folder, across stores
    assert across == ObjectStoragePath(str(tmp_path / "moved.csv")) and not moved.exists()
    with pytest.raises(FileNotFoundError):
        moved.copy(mem / "x.csv")


def test_copy_a_tree_between_stores(mem: ObjectStoragePath, tmp_path: Path) -> None:
    for name in ("a/1.txt", "a/sub/2.txt"):
        (tmp_path / "tree" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / name).write_text(name)
    copied = ObjectStoragePath(str(tmp_path / "tree")).copy(mem / "tree", recursive=True)
    assert sorted(p.key.removeprefix(mem.key) for p in copied.rglob("*.txt")) == [
        "tree/a/1.txt",
        "tree/a/sub/2.txt",
    ]
    assert (copied / "a" / "sub" / "2.txt").read_text() == "a/sub/2.txt"
    into = ObjectStoragePath(str(tmp_path / "tree" / "a" / "1.txt")).copy_into(mem)
    assert into == mem / "1.txt" and into.read_text() == "a/1.txt"
    with pytest.raises(NotADirectoryError):
        into.copy_into(mem / "absent")


def test_serialize_pickle_and_str_round_trip() -> None:
    path = ObjectStoragePath("s3://lake@bucket/dir/file.csv", region_name="eu-west-1")
    data = path.serialize()
    assert json.loads(json.dumps(data)) == {
        "path": "s3://lake@bucket/dir/file.csv",
        "conn_id": "lake",
        "kwargs": {"region_name": "eu-west-1"},
    }
    assert ObjectStoragePath.deserialize(data, 1) == path
    assert pickle.loads(pickle.dumps(path)) == path
    assert ObjectStoragePath(str(path)).conn_id == "lake"
    with pytest.raises(ValueError, match="version 2"):
        ObjectStoragePath.deserialize(data, 2)


def test_a_returned_path_is_not_an_xcom_value_but_its_string_is(runtime: InMemoryRuntime) -> None:
    """XComs are JSON and have no hook for custom types: return ``str(path)`` and rebuild it downstream."""
    with DAG("object_storage_xcom", schedule=None):

        @task
        def produce() -> ObjectStoragePath:
            return ObjectStoragePath("s3://lake@bucket/out.parquet")

        @task
        def produce_text() -> str:
            return str(ObjectStoragePath("s3://lake@bucket/out.parquet"))

        @task
        def consume(value: str) -> str:
            path = ObjectStoragePath(value)
            return f"{path.conn_id} {path.bucket} {path.key}"

        returned = produce()
        text = produce_text()
        used = consume(text)

    with pytest.raises(
        TradewindError, match="XCom 'return_value' of task 'produce' is not JSON-serialisable"
    ):
        run_task(returned.operator, runtime)
    run_task(text.operator, runtime)
    run_task(used.operator, runtime)
    assert xcom(runtime, "object_storage_xcom", "consume") == "lake bucket out.parquet"


def test_attach_keeps_one_store_per_connection_and_takes_a_filesystem() -> None:
    from fsspec.implementations.memory import MemoryFileSystem

    assert attach("s3", "lake") is attach("s3", "lake")
    assert attach("s3", "lake") is not attach("s3", "warehouse")
    assert str(attach("s3", "lake")) == "s3-lake"
    own = MemoryFileSystem()
    store = attach("memory", alias="scratch", fs=own)
    assert store.fs is own and attach(alias="scratch") is store
    with pytest.raises(ValueError, match="no store is attached as 'nothing'"):
        attach(alias="nothing")


def test_unknown_scheme_fails_on_use_naming_it() -> None:
    path = ObjectStoragePath("nosuch://bucket/key")  # building it is fine
    assert not has_fs("nosuch")
    with pytest.raises(NotFoundError, match="no filesystem is known for scheme 'nosuch'"):
        path.exists()


def test_a_registered_filesystem_gets_the_connection_id(mem: ObjectStoragePath) -> None:
    seen: list[str | None] = []

    def factory(conn_id: str | None, options: object) -> object:
        seen.append(conn_id)
        return get_fs("memory")

    register_filesystem("scratch", factory)
    path = ObjectStoragePath(f"scratch://team_store@{mem.key}x.txt")
    assert path.bucket == mem.key.rstrip("/")
    path.write_text("hi")
    assert seen == ["team_store"] and (mem / "x.txt").read_text() == "hi"


def test_probing_attributes_looks_up_no_connection() -> None:
    """Templating and serialization probe values with getattr; that must not reach the store."""
    path = ObjectStoragePath("s3://no_such_connection@bucket/dir/key.csv")
    assert getattr(path, "template_fields", None) is None
    assert getattr(path, "to_dict", None) is None
    assert not hasattr(path, "_fields")
    assert path.parts[-1] == "key.csv"  # a UPath property, answered without a filesystem
    assert callable(path.walk)  # a UPath method, handed on only when called


def test_upath_methods_are_handed_on_with_the_store(mem: ObjectStoragePath) -> None:
    (mem / "d").mkdir()
    (mem / "d" / "f.txt").write_text("x")
    walked = list((mem / "d").walk())
    assert walked[0][0] == mem / "d" and walked[0][2] == ["f.txt"]
