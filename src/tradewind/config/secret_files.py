"""Secrets Tradewind generates for itself when none is configured, kept in files only their owner reads."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tradewind.sdk.errors import ConfigError

MIN_LENGTH = 32


def persisted_secret(path: Path, *, key: str) -> str:
    """The secret in ``path``, generating it (0600, O_EXCL) the first time. Several processes starting at
    once agree on whichever secret was written first. ``key`` names the setting that overrides the file."""
    try:
        return _read(path, key)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path, key)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _read(path: Path, key: str) -> str:
    value = path.read_text().strip()
    if len(value) < MIN_LENGTH:
        raise ConfigError(f"{path}: the secret is shorter than {MIN_LENGTH} characters (set {key})", key=key)
    return value
