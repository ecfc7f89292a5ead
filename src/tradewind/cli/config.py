"""`tradewind config show`: the effective settings, secrets masked, as TOML or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import BaseModel

from tradewind.cli.arguments import Subparsers
from tradewind.config.effective import effective_settings
from tradewind.config.settings import Settings, load_settings


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
