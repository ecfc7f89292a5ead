"""ObjectStoragePath: a pathlib-like path to a file in an object store or filesystem, reached through a connection.

``ObjectStoragePath("s3://lake@raw-data/2024/orders.csv")`` names object ``2024/orders.csv`` in bucket
``raw-data``, read with connection ``lake`` (the URL's user part; or ``conn_id="lake"``). Building a path, joining
it (``/``) and reading its parts are pure string work: no I/O, no connection lookup and no import of fsspec. The
first operation that touches the store attaches it (``tradewind.sdk.io.store.attach``), which builds the fsspec
filesystem from the connection; the directory-like operations go through a universal_pathlib ``UPath`` that
uses that filesystem. Methods this class does not define are handed to that ``UPath``.

A path is a value: ``str(path)`` keeps the connection id (``s3://lake@raw-data/...``) and
``ObjectStoragePath(str(path)) == path``; ``serialize()`` / ``deserialize()`` carry storage options too.
"""

from __future__ import annotations

import inspect
import os
import posixpath
from collections.abc import Iterator
from typing import IO, Any, ClassVar

from tradewind.sdk.io.stat import StatResult
from tradewind.sdk.io.store import attach
from tradewind.sdk.io.transfer import copy_path, move_path

#: Schemes whose paths have no bucket: the whole URL after ``scheme://`` is the path.
BUCKETLESS = frozenset({"file", "memory"})


def _split_url(text: str, protocol: str | None) -> tuple[str, str | None, str, str]:
    """(protocol, conn_id, bucket, path) of ``text``; ``path`` starts with "/" unless a relative local path."""
    scheme, separator, rest = text.partition("://")
    conn_id: str | None = None
    if separator and scheme and "/" not in scheme:
        found = "file" if scheme == "local" else scheme
        authority, slash, tail = rest.partition("/")
        if "@" in authority:
            user, _, authority = authority.rpartition("@")
            conn_id = user or None
        if found in BUCKETLESS:
            return found, conn_id, "", "/" + f"{authority}{slash}{tail}".lstrip("/")
        return found, conn_id, authority, f"{slash}{tail}"
    found = "file" if protocol in (None, "", "local") else str(protocol)
    if found in BUCKETLESS:
        path = text if found == "file" or text.startswith("/") else "/" + text
        return found, None, "", path
    bucket, slash, tail = text.lstrip("/").partition("/")
    return found, None, bucket, f"{slash}{tail}"


def _restore(data: dict[str, Any]) -> ObjectStoragePath:
    return ObjectStoragePath.deserialize(data, ObjectStoragePath.__version__)


class ObjectStoragePath:
    """A path in an object store: ``protocol://[conn_id@]bucket/key`` (or a local path)."""

    __version__: ClassVar[int] = 1
    sep: ClassVar[str] = "/"

    __slots__ = ("_bucket", "_conn_id", "_path", "_protocol", "_storage_options", "_upath_cached")
    _protocol: str
    _conn_id: str | None
    _bucket: str
    _path: str
    _storage_options: dict[str, Any]
    _upath_cached: Any

    def __init__(
        self,
        *args: str | os.PathLike[str] | ObjectStoragePath,
        protocol: str | None = None,
        conn_id: str | None = None,
        **storage_options: Any,
    ) -> None:
        first, rest = (args[0], args[1:]) if args else (".", ())
        if isinstance(first, ObjectStoragePath):
            found = (first._protocol, first._conn_id, first._bucket, first._path)
            storage_options = {**first._storage_options, **storage_options}
        else:
            found = _split_url(os.fspath(first), protocol)
        self._protocol, url_conn_id, self._bucket, self._path = found
        self._conn_id = conn_id if conn_id is not None else url_conn_id
        self._storage_options = storage_options
        for segment in rest:
            self._path = self._joined(segment)

    # -- pure parts --------------------------------------------------------------------------------------------
    def _joined(self, segment: str | os.PathLike[str] | ObjectStoragePath) -> str:
        text = segment.path if isinstance(segment, ObjectStoragePath) else os.fspath(segment)
        if self._protocol in BUCKETLESS:
            return posixpath.join(self._path, text) if self._path else text
        return posixpath.join(self._path or "/", text)

    def _with_path(self, path: str) -> ObjectStoragePath:
        new = object.__new__(type(self))
        new._protocol, new._conn_id, new._bucket, new._path = (
            self._protocol,
            self._conn_id,
            self._bucket,
            path,
        )
        new._storage_options = self._storage_options
        return new

    def _from_fs_path(self, fs_path: str) -> ObjectStoragePath:
        """The path in this store that the filesystem calls ``fs_path``."""
        if self._protocol in BUCKETLESS:
            return self._with_path(fs_path if self._protocol == "file" else "/" + fs_path.lstrip("/"))
        bucket, slash, key = fs_path.lstrip("/").partition("/")
        new = self._with_path(f"{slash}{key}")
        new._bucket = bucket
        return new

    def __truediv__(self, segment: str | os.PathLike[str]) -> ObjectStoragePath:
        return self._with_path(self._joined(segment))

    def joinpath(self, *segments: str | os.PathLike[str]) -> ObjectStoragePath:
        path = self
        for segment in segments:
            path = path / segment
        return path

    @property
    def protocol(self) -> str:
        return self._protocol

    @property
    def conn_id(self) -> str | None:
        return self._conn_id

    @property
    def storage_options(self) -> dict[str, Any]:
        return dict(self._storage_options)

    @property
    def bucket(self) -> str:
        """The bucket (container) name; empty for local and in-memory paths."""
        return self._bucket

    @property
    def container(self) -> str:
        return self._bucket

    @property
    def key(self) -> str:
        """The object key inside the bucket, without a leading slash (a trailing one is kept)."""
        return self._path.lstrip("/")

    @property
    def namespace(self) -> str:
        return f"{self._protocol}://{self._bucket}" if self._bucket else self._protocol

    @property
    def path(self) -> str:
        """The path as the fsspec filesystem names it (``bucket/key`` for object stores)."""
        if self._protocol in BUCKETLESS:
            return self._path
        return self._bucket + (self._path if self._path != "/" else "")

    @property
    def name(self) -> str:
        return posixpath.basename(self._path.rstrip("/"))

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1]

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.name)[0]

    @property
    def parent(self) -> ObjectStoragePath:
        trimmed = self._path.rstrip("/")
        if not trimmed:
            return self
        return self._with_path(posixpath.dirname(trimmed) or ("" if self._protocol == "file" else "/"))

    def with_name(self, name: str) -> ObjectStoragePath:
        return self.parent / name

    def with_suffix(self, suffix: str) -> ObjectStoragePath:
        return self.with_name(self.stem + suffix)

    def samestore(self, other: object) -> bool:
        """Whether ``other`` is reached through the same filesystem and connection."""
        return (
            isinstance(other, ObjectStoragePath)
            and self._protocol == other._protocol
            and self._conn_id == other._conn_id
            and self._storage_options == other._storage_options
        )

    def __str__(self) -> str:
        user = f"{self._conn_id}@" if self._conn_id else ""
        if self._protocol == "file" and not user:
            return self._path
        return f"{self._protocol}://{user}{self._bucket}{self._path}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectStoragePath):
            return NotImplemented
        return self.samestore(other) and str(self) == str(other)

    def __lt__(self, other: ObjectStoragePath) -> bool:
        return str(self) < str(other)

    def __hash__(self) -> int:
        return hash((self._protocol, str(self)))

    def __fspath__(self) -> str:
        if self._protocol != "file":
            raise TypeError(f"{self!s} is not a local path; open it with .open() or read it through .fs")
        return self._path

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return _restore, (self.serialize(),)

    def serialize(self) -> dict[str, Any]:
        """A JSON-able form (an XCom value, a task argument): ``deserialize`` rebuilds the same path."""
        return {"path": str(self), "conn_id": self._conn_id, "kwargs": dict(self._storage_options)}

    @classmethod
    def deserialize(cls, data: dict[str, Any], version: int) -> ObjectStoragePath:
        if version > cls.__version__:
            raise ValueError(
                f"cannot read an ObjectStoragePath of version {version} (this one reads {cls.__version__})"
            )
        return cls(data["path"], conn_id=data.get("conn_id"), **dict(data.get("kwargs") or {}))

    @classmethod
    def cwd(cls) -> ObjectStoragePath:
        return cls(os.getcwd())

    @classmethod
    def home(cls) -> ObjectStoragePath:
        return cls(os.path.expanduser("~"))

    # -- the store -----------------------------------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        """The fsspec filesystem of this path's store (built from the connection on first use)."""
        return attach(self._protocol, self._conn_id, storage_options=self._storage_options or None).fs

    @property
    def _upath(self) -> Any:
        try:
            return self._upath_cached
        except AttributeError:
            pass
        from upath import UPath

        upath = UPath(self._upath_url())
        upath._fs_cached = self.fs
        self._upath_cached = upath
        return upath

    def _upath_url(self) -> str:
        if self._protocol == "file":
            return "file://" + os.path.abspath(self._path or ".")
        return f"{self._protocol}://{self.path}"

    def _wrap(self, value: Any) -> Any:
        from upath import UPath

        if isinstance(value, UPath):
            return self._from_fs_path(value.path)
        if isinstance(value, Iterator):
            return (self._wrap(item) for item in value)
        if isinstance(value, tuple | list):
            return type(value)(self._wrap(item) for item in value)
        return value

    def __getattr__(self, name: str) -> Any:
        # Only names UPath has are handed on, and a method reaches the store only when called: code that probes
        # a value (``getattr(value, "template_fields", None)``) must not look up the connection.
        from upath import UPath

        if name.startswith("_") or not hasattr(UPath, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if not callable(inspect.getattr_static(UPath, name)):
            return self._wrap(getattr(UPath(self._upath_url()), name))  # a property: no filesystem needed

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._wrap(getattr(self._upath, name)(*args, **kwargs))

        return call

    # -- reading and writing -------------------------------------------------------------------------------------
    def open(self, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open the file (``"rb"``, ``"wb"``, ``"r"``, ``"w"`` ...); text modes take ``encoding``/``errors``/``newline``."""
        if "buffering" in kwargs:
            kwargs.setdefault("block_size", kwargs.pop("buffering"))
        handle: IO[Any] = self.fs.open(self.path, mode=mode, **kwargs)
        return handle

    def read_bytes(self) -> bytes:
        with self.open("rb") as handle:
            data: bytes = handle.read()
        return data

    def read_text(
        self, encoding: str | None = None, errors: str | None = None, newline: str | None = None
    ) -> str:
        with self.open("r", encoding=encoding, errors=errors, newline=newline) as handle:
            text: str = handle.read()
        return text

    def write_bytes(self, data: bytes) -> int:
        with self.open("wb") as handle:
            handle.write(data)
        return len(data)

    def write_text(
        self, data: str, encoding: str | None = None, errors: str | None = None, newline: str | None = None
    ) -> int:
        with self.open("w", encoding=encoding, errors=errors, newline=newline) as handle:
            handle.write(data)
        return len(data)

    # -- what is there -------------------------------------------------------------------------------------------
    def exists(self) -> bool:
        return bool(self.fs.exists(self.path))

    def is_dir(self) -> bool:
        return bool(self.fs.isdir(self.path))

    def is_file(self) -> bool:
        return bool(self.fs.isfile(self.path))

    def iterdir(self) -> Iterator[ObjectStoragePath]:
        for child in self._upath.iterdir():
            yield self._from_fs_path(child.path)

    def glob(self, pattern: str) -> Iterator[ObjectStoragePath]:
        for found in self._upath.glob(pattern):
            yield self._from_fs_path(found.path)

    def rglob(self, pattern: str) -> Iterator[ObjectStoragePath]:
        for found in self._upath.rglob(pattern):
            yield self._from_fs_path(found.path)

    def stat(self) -> StatResult:
        """The store's details of the file (``st_size``, ``st_mtime``, ``st_mode``, and its own keys)."""
        return StatResult({**self.fs.info(self.path), "protocol": self._protocol, "conn_id": self._conn_id})

    def size(self) -> int:
        return int(self.fs.size(self.path))

    def checksum(self) -> int:
        """A number that changes when the file's content or details change (fsspec's ``checksum``)."""
        return int(self.fs.checksum(self.path))

    def ukey(self) -> str:
        return str(self.fs.ukey(self.path))

    def read_block(self, offset: int, length: int, delimiter: bytes | None = None) -> bytes:
        block: bytes = self.fs.read_block(self.path, offset=offset, length=length, delimiter=delimiter)
        return block

    def sign(self, expiration: int = 100, **kwargs: Any) -> str:
        """A URL that grants access to the object for ``expiration`` seconds (stores that support it)."""
        return str(self.fs.sign(self.path, expiration=expiration, **kwargs))

    def samefile(self, other: object) -> bool:
        return isinstance(other, ObjectStoragePath) and self.samestore(other) and self.path == other.path

    # -- changing it ---------------------------------------------------------------------------------------------
    def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Make the directory (for an object store's bucket root: create the bucket)."""
        self._upath.mkdir(mode=mode, parents=parents, exist_ok=exist_ok)

    def touch(self, exist_ok: bool = True) -> None:
        self._upath.touch(exist_ok=exist_ok)

    def unlink(self, missing_ok: bool = False) -> None:
        self._upath.unlink(missing_ok=missing_ok)

    def rmdir(self, recursive: bool = True) -> None:
        """Remove the directory, with its content unless ``recursive=False`` (then it must be empty)."""
        self._upath.rmdir(recursive=recursive)

    def copy(self, dst: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any) -> ObjectStoragePath:
        """Copy this file (or directory tree) to ``dst``, in the same store or another one; returns the target.

        A file copied onto an existing directory (or a ``dst`` ending in "/") keeps its name inside it. Within
        one store the store copies; across stores the bytes are streamed, never held whole in memory.
        """
        return copy_path(self, self._coerce(dst), recursive=recursive, **kwargs)

    def move(self, dst: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any) -> ObjectStoragePath:
        """Move this file (or directory tree) to ``dst``: a rename within one store, else copy then delete."""
        return move_path(self, self._coerce(dst), recursive=recursive, **kwargs)

    def copy_into(
        self, target_dir: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any
    ) -> ObjectStoragePath:
        return self.copy(self._existing_dir(target_dir) / self.name, recursive=recursive, **kwargs)

    def move_into(
        self, target_dir: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any
    ) -> ObjectStoragePath:
        return self.move(self._existing_dir(target_dir) / self.name, recursive=recursive, **kwargs)

    def rename(self, target: str | ObjectStoragePath) -> ObjectStoragePath:
        return self.move(target)

    def replace(self, target: str | ObjectStoragePath) -> ObjectStoragePath:
        return self.move(target)

    def _coerce(self, other: str | ObjectStoragePath) -> ObjectStoragePath:
        return other if isinstance(other, ObjectStoragePath) else ObjectStoragePath(other)

    def _existing_dir(self, target_dir: str | ObjectStoragePath) -> ObjectStoragePath:
        directory = self._coerce(target_dir)
        if not directory.is_dir():
            raise NotADirectoryError(f"{directory} is not a directory")
        return directory
