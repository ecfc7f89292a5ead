"""`tradewind plugins`: the plugins this installation loads, where from, and what each registers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.config.settings import load_settings
from tradewind.plugins.registry import ensure_plugins_loaded
from tradewind.sdk.plugins import UNSERVED_ATTRIBUTES, AirflowPlugin

COLUMNS = [
    "name", "source", "macros", "timetables", "operator_extra_links", "global_operator_extra_links",
    "not_served",
]  # fmt: skip


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "plugins",
        help="List the loaded plugins (plugins folder: [core] plugins_folder, $TRADEWIND_HOME/plugins)",
    )
    add_output_flag(parser)
    parser.set_defaults(handler=_list)


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def plugin_row(plugin: type[AirflowPlugin]) -> dict[str, Any]:
    """What one plugin brings, with Airflow's key names."""

    def links(values: list[Any]) -> list[str]:
        return [f"{link.name} ({_qualname(type(link))})" for link in values]

    return {
        "name": plugin.name,
        "source": plugin.source,
        "macros": [_qualname(m) for m in plugin.macros],
        "timetables": [_qualname(t) for t in plugin.timetables],
        "operator_extra_links": links(plugin.operator_extra_links),
        "global_operator_extra_links": links(plugin.global_operator_extra_links),
        "not_served": [name for name in UNSERVED_ATTRIBUTES if getattr(plugin, name, None)],
    }


def _list(args: argparse.Namespace) -> int:
    settings = load_settings()
    state = ensure_plugins_loaded(settings)
    rows = [plugin_row(p) for p in state.plugins]
    if args.output == "json":
        print_rows(rows, COLUMNS, "json")
    else:
        flat = [{k: ", ".join(v) if isinstance(v, list) else v for k, v in row.items()} for row in rows]
        if not flat and args.output == "table":
            print(f"No plugins loaded from {state.folder}")
        else:
            print_rows(flat, COLUMNS, args.output)
    for error in state.errors:
        print(f"error: plugin {error}", file=sys.stderr)
    return 0
