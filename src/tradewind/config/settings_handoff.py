"""Hand one process's settings to a child it starts, exactly (secrets included, nothing re-read from the
environment or the file): written to the child's stdin, never to its arguments or environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tradewind.config.settings import Settings


def settings_payload(settings: Settings) -> str:
    """One line of JSON holding every value of ``settings``, secrets in clear: for a pipe only."""
    return json.dumps(_plain(settings.model_dump()), separators=(",", ":")) + "\n"


def settings_from_payload(line: str) -> Settings:
    """The settings ``settings_payload`` wrote (validated again; no file or environment is read)."""
    return Settings.model_validate(json.loads(line))


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
