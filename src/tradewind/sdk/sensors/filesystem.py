"""FileSensor: wait until a file or directory exists (a glob pattern, optionally recursive)."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from typing import Any

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import BaseSensorOperator
from tradewind.sdk.triggers.base import BaseTrigger
from tradewind.sdk.triggers.file import FileTrigger

#: The only filesystem connection until connections exist: the local filesystem, paths as written.
DEFAULT_FS_CONN_ID = "fs_default"


class FileSensor(BaseSensorOperator):
    """Done when ``filepath`` (templated; a glob pattern, ``**`` across directories with ``recursive``)
    matches a file, or a non-empty directory."""

    template_fields: Sequence[str] = ("filepath",)
    ui_color = "#91818a"

    def __init__(
        self, *, filepath: str, fs_conn_id: str = DEFAULT_FS_CONN_ID, recursive: bool = False, **kwargs: Any
    ) -> None:
        if fs_conn_id != DEFAULT_FS_CONN_ID:
            raise DagDefinitionError(
                f"FileSensor(task_id={kwargs.get('task_id')!r}): fs_conn_id={fs_conn_id!r} is not supported "
                f"yet; only {DEFAULT_FS_CONN_ID!r} (the local filesystem) exists until connections do"
            )
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive
        super().__init__(**kwargs)

    def deferral_trigger(self, context: Mapping[str, Any]) -> BaseTrigger | None:
        return FileTrigger(os.fspath(self.filepath), recursive=self.recursive, poke_interval=self.poke_interval or 1.0)

    def poke(self, context: Mapping[str, Any]) -> bool:
        path = os.fspath(self.filepath)
        emit(f"Poking for file {path}")
        for match in glob.glob(path, recursive=self.recursive):
            if os.path.isfile(match):
                emit(f"Found file {match}")
                return True
            if os.path.isdir(match) and any(os.scandir(match)):
                emit(f"Found a non-empty directory {match}")
                return True
        return False
