"""Connections and variables from folders of files, as a Kubernetes Secret is mounted: one file per id,
named by it, holding the connection's URI or JSON form (or the variable's value)."""

from __future__ import annotations

from pathlib import Path

from tradewind.secrets.base import BaseSecretsBackend


class MountedFilesBackend(BaseSecretsBackend):
    def __init__(self, *, connections_path: Path | None, variables_path: Path | None) -> None:
        self.connections_path = connections_path
        self.variables_path = variables_path

    def get_conn_value(self, conn_id: str) -> str | None:
        text = _read(self.connections_path, conn_id)
        return None if text is None else text.strip()

    def get_variable(self, key: str) -> str | None:
        # A mounted Secret's files end with whatever the source had; a trailing newline is never meant.
        text = _read(self.variables_path, key)
        return None if text is None else text.removesuffix("\n")


def _read(folder: Path | None, name: str) -> str | None:
    # Ids with a path separator or a leading dot could name files outside the folder (or its ..data link).
    if folder is None or not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = folder / name
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
