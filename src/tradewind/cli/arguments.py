"""Shared argument helpers for command groups: the output flag and printing tables or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
#: Console width for tables written to a pipe or file: wide enough that no value is cut.
UNBOUNDED_WIDTH = 100_000


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", choices=["table", "json", "plain"], default="table", help="output format"
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str) -> None:
    """Print rows as a rich table (humans), a JSON array of objects (scripts) or tab-separated text."""
    if output == "json":
        json.dump([{c: _jsonable(r.get(c)) for c in columns} for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if output == "plain":
        for r in rows:
            print("\t".join("" if r.get(c) is None else str(_jsonable(r.get(c))) for c in columns))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(_jsonable(r.get(c))) for c in columns))
    # On a terminal the table fits its width; piped (`| grep`), values are printed whole, never cut.
    Console(width=None if sys.stdout.isatty() else UNBOUNDED_WIDTH).print(table)
