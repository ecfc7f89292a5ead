"""`tradewind dags check-airflow PATH...`: the migration report of DAG files written for Apache Airflow."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from tradewind.cli.arguments import print_rows
from tradewind.compat.airflow.migration_report import check_paths
from tradewind.sdk.errors import NotFoundError

COLUMNS = ["file", "line", "name", "reason"]


def add_command(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = cmds.add_parser(
        "check-airflow",
        help="List the Airflow names and operator arguments of DAG files that Tradewind does not support",
        description="Read DAG files (and the .py files under folders) without running them, and list per file "
        "and line every Airflow import name or operator argument Tradewind does not support. "
        "Exit code 0 when everything is supported, 1 otherwise.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="DAG files or folders to check")
    p.add_argument(
        "-o",
        "--output",
        choices=["text", "json"],
        default="text",
        help="text: one `FILE:LINE: NAME: REASON` line each; json: a list of {file, line, name, reason}",
    )
    p.set_defaults(handler=_check_airflow)


def _check_airflow(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise NotFoundError(f"no such file or folder: {', '.join(missing)}", kind="path", ident=missing[0])
    checked, findings = check_paths(args.paths)
    if args.output == "json":
        print_rows([asdict(f) for f in findings], COLUMNS, "json")
    else:
        for f in findings:
            print(f"{f.file}:{f.line}: {f.name}: {f.reason}")
        files = len({f.file for f in findings})
        verdict = (
            "everything is supported" if not findings else f"{len(findings)} unsupported in {files} files"
        )
        print(f"{checked} files checked: {verdict}", file=sys.stderr)
    return 1 if findings else 0
