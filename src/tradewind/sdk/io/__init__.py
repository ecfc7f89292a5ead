"""Object storage as paths: ``ObjectStoragePath`` over fsspec filesystems built from connections (Airflow's
``airflow.sdk.io``). Nothing here imports fsspec or universal_pathlib until a path is first used."""

from __future__ import annotations

from tradewind.sdk.io.filesystems import get_fs, has_fs, register_filesystem
from tradewind.sdk.io.path import ObjectStoragePath
from tradewind.sdk.io.store import ObjectStore, attach

__all__ = ["ObjectStoragePath", "ObjectStore", "attach", "get_fs", "has_fs", "register_filesystem"]
