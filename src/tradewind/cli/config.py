"""`tradewind config show`: the effective settings, secrets masked, as TOML or JSON."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from tradewind.cli.arguments import Subparsers
from tradewind.config.settings import Settings, load_settings
from tradewind.core.redaction import MASK, mask_url, redact


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("config", help="Show the effective configuration")
    commands = parser.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    show = commands.add_parser("show", help="Print the effective settings (file + environment + defaults)")
    show.add_argument("--section", choices=_sections(), help="print only this section")
    show.add_argument("-o", "--output", choices=["toml", "json"], default="toml", help="output format")
    show.set_defaults(handler=_show)


def _sections() -> list[str]:
    return [name for name, field in Settings.model_fields.items() if _is_section(field.annotation)]


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


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


def _without_none(value: Any) -> Any:
    # TOML has no null: an unset option is left out, as it would be in a config file.
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


def _show(args: argparse.Namespace) -> int:
    data = effective_settings(load_settings())
    if args.section:
        data = {args.section: data[args.section]}
    if args.output == "json":
        print(json.dumps(data, indent=2))
        return 0
    import tomli_w

    print(tomli_w.dumps(_without_none(data)), end="")
    return 0
