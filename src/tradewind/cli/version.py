"""`tradewind version`."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version

from tradewind.cli.arguments import Subparsers


def tradewind_version() -> str:
    try:
        return version("tradewind")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0+unknown"


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("version", help="Print the Tradewind version")
    parser.set_defaults(handler=_run)


def _run(_args: argparse.Namespace) -> int:
    print(tradewind_version())
    return 0
