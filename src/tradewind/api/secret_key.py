"""The key that signs session cookies: from settings, or generated once and kept under TRADEWIND_HOME."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tradewind.config.settings import Settings
from tradewind.sdk.errors import ConfigError

SECRET_KEY_FILE = "webserver_secret_key"


def load_secret_key(settings: Settings) -> str:
    configured = settings.webserver.secret_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return _persisted_key(settings.home / SECRET_KEY_FILE)


def _persisted_key(path: Path) -> str:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: two webservers starting at once agree on whichever key was written first.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(
            f"{path}: the webserver secret key is shorter than 32 characters", key="webserver.secret_key"
        )
    return key
