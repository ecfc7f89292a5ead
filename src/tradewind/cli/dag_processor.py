"""`tradewind dag-processor`: parse the DAG folder into the metadata database, once or until stopped."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradewind.cli.arguments import Subparsers, print_rows
from tradewind.cli.console_logging import configure_logging
from tradewind.cli.metrics_serving import start_service_metrics
from tradewind.cli.stop_signals import install_stop_signals
from tradewind.cli.store_access import migrated_engine
from tradewind.compat.airflow.activation import startup_notice
from tradewind.config.settings import load_settings
from tradewind.core.clock import utcnow
from tradewind.dag_processing.processor import DagProcessor, ProcessorResult
from tradewind.store import import_errors
from tradewind.store.engine import make_session_factory, transaction


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "dag-processor",
        help="Run the DAG processor on its own",
        description="Parse the DAG folder in child processes and store the DAGs and import errors. "
        "Runs until SIGTERM or SIGINT, re-listing the folder every scheduler.dag_dir_list_interval seconds.",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="parse once, print a summary and exit (exit code 1 if any DAG file has an import error)",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=["table", "json", "plain"],
        default="table",
        help="format of the import errors printed by --once",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging("WARNING" if args.once else settings.logging.level, settings.logging.log_format)
    if (notice := startup_notice(settings)) is not None:
        print(notice, file=sys.stderr, flush=True)
    engine = migrated_engine(settings, what="the DAG processor")
    try:
        sessions = make_session_factory(engine)
        if not args.once:
            stop = threading.Event()
            install_stop_signals(stop)
            metrics, stop_metrics = start_service_metrics(settings)
            try:
                DagProcessor(settings, sessions, metrics=metrics).run_forever(stop)
            finally:
                stop_metrics()
            return 0
        processor = DagProcessor(settings, sessions)
        result = processor.run_once(utcnow())
        processor.callbacks.run_pending()
        with transaction(sessions) as session:
            errors, _total = import_errors.list_import_errors(session=session)
            rows = [
                {"filename": e.filename, "lineno": e.lineno, "message": e.message, "timestamp": e.timestamp}
                for e in errors
            ]
        _print_summary(result, rows, args.output, settings.dags_folder.absolute())
        return 1 if rows else 0
    finally:
        engine.dispose()


def _print_summary(
    result: ProcessorResult, errors: Sequence[dict[str, Any]], output: str, dags_folder: Path
) -> None:
    if output == "json":
        print_rows(errors, ["filename", "lineno", "message", "timestamp"], output)
        return
    print(
        f"{result.files_seen} DAG file(s): {result.files_parsed} parsed, {result.files_skipped} unchanged, "
        f"{result.files_deleted} deleted; {result.dags_stored} DAG(s) stored, "
        f"{result.dags_deactivated} deactivated; {len(errors)} file(s) with import errors "
        f"({result.duration:.2f} s)"
    )
    if errors and output == "table":
        # Paths inside the DAG folder are shown relative to it, so the table stays readable.
        errors = [{**e, "filename": _display_path(e["filename"], dags_folder)} for e in errors]
    if errors:
        print_rows(errors, ["filename", "lineno", "message"], output)


def _display_path(filename: str, dags_folder: Path) -> str:
    path = Path(filename)
    return path.relative_to(dags_folder).as_posix() if path.is_relative_to(dags_folder) else filename


