"""The files `tradewind connections export|import` write and read, in Airflow's formats: a JSON or YAML object
of conn_id -> fields (or URI), or an ``.env`` file of ``conn_id=URI`` (or ``conn_id=JSON``) lines."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConnectionFieldError, NotFoundError, ParamValidationError

FILE_FORMATS = ("json", "yaml", "env")
SERIALIZATION_FORMATS = ("uri", "json")
_BY_SUFFIX = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".env": "env"}


def file_format_of(path: str, given: str | None) -> str:
    """``given``, else the format the file name's suffix says; ParamValidationError when neither does."""
    if given:
        return given
    found = _BY_SUFFIX.get(Path(path).suffix.lower())
    if found is None:
        raise ParamValidationError(
            f"cannot tell the format of {path!r} from its suffix; use .json, .yaml, .yml or .env, "
            "or --file-format",
            param="file_format",
        )
    return found


def serialize(connections: Sequence[Connection], file_format: str, serialization: str) -> str:
    """The file's text, secrets included (the caller writes it readable by its owner only)."""
    if file_format == "env":
        lines = [f"{c.conn_id}={c.get_uri() if serialization == 'uri' else c.as_json()}" for c in connections]
        return "".join(line + "\n" for line in lines)
    mapping: dict[str, Any] = {}
    for connection in connections:
        fields = connection.to_dict(prune_empty=True)
        fields.pop("conn_id", None)
        mapping[connection.conn_id or ""] = fields
    if file_format == "yaml":
        return str(yaml.safe_dump(mapping, sort_keys=False, default_flow_style=False))
    return json.dumps(mapping, indent=2) + "\n"


def write_private(path: str, text: str) -> None:
    """Write ``text`` to a file readable and writable by its owner only (0600), also when it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def parse(path: Path, file_format: str) -> list[Connection]:
    """Every connection in the file; errors name the file, the connection and the field, never a value."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"file {path} does not exist", kind="file", ident=str(path)) from None
    if file_format == "env":
        return _parse_env(path, text)
    try:
        data = yaml.safe_load(text) if file_format == "yaml" else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        # The parser's message may quote the file's text (a password): name only where it failed.
        mark = getattr(exc, "problem_mark", None)
        where = getattr(exc, "lineno", None) or (mark.line + 1 if mark is not None else None)
        raise ParamValidationError(
            f"{path} is not valid {file_format.upper()}" + (f" (near line {where})" if where else ""),
            param="file",
        ) from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ParamValidationError(f"{path} must hold an object of conn_id: connection", param="file")
    return [_one(path, str(conn_id), value) for conn_id, value in data.items()]


def _one(path: Path, conn_id: str, value: Any) -> Connection:
    try:
        if isinstance(value, str):
            return Connection.parse(value, conn_id)
        if isinstance(value, dict):
            return Connection.from_json(json.dumps(value, default=str), conn_id)
    except ConnectionFieldError as exc:
        raise ConnectionFieldError(
            f"in {path}: {str(exc).split(': ', 1)[-1]}", conn_id=conn_id, field=exc.field
        ) from None
    raise ConnectionFieldError(
        f"in {path}: the value must be a URI or an object of fields", conn_id=conn_id, field="json"
    )


def _parse_env(path: Path, text: str) -> list[Connection]:
    found: dict[str, Connection] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        conn_id, sep, value = line.partition("=")
        conn_id = conn_id.strip()
        if not sep or not conn_id:
            raise ParamValidationError(
                f"{path}, line {lineno}: expected conn_id=URI or conn_id=JSON", param="file"
            )
        if conn_id in found:
            raise ParamValidationError(
                f"{path}, line {lineno}: connection {conn_id!r} given twice", param="file"
            )
        found[conn_id] = _one(path, conn_id, value.strip())
    return list(found.values())
