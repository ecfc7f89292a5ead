"""The effective settings as plain data with every secret masked: what `tradewind config show` prints and
the web UI's Configuration page shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from tradewind.config.settings import Settings
from tradewind.core.redaction import MASK, mask_url, redact


def effective_settings(settings: Settings) -> dict[str, Any]:
    """Every setting as plain data, defaults resolved, every secret masked: secret settings (their type says
    so), values under secret-looking keys of free-form mappings, and the passwords and secret query
    parameters of URLs (which keep the rest, so operators can still see which database is meant)."""
    data: dict[str, Any] = {name: _plain(getattr(settings, name)) for name in Settings.model_fields}
    data["core"]["dags_folder"] = str(settings.dags_folder)
    data["logging"]["base_log_folder"] = str(settings.base_log_folder)
    data["database"]["url"] = settings.database_url
    masked: dict[str, Any] = _without_url_secrets(data)
    return masked


def _without_url_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_url_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_url_secrets(item) for item in value]
    return mask_url(value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, BaseModel):
        return {name: _plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        # A mapping the operator wrote (pod annotations, worker resources): judged by its keys' names.
        return redact({str(k): _plain(v) for k, v in value.items()})
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    return value
