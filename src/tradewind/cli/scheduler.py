"""`tradewind scheduler`: run the scheduler until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import sys
import threading

from tradewind.cli.arguments import Subparsers
from tradewind.cli.console_logging import configure_logging
from tradewind.cli.execution_api import scheduler_tokens
from tradewind.cli.forked_dag_processor import ForkedDagProcessor
from tradewind.cli.metrics_serving import start_service_metrics
from tradewind.cli.stop_signals import install_stop_signals
from tradewind.cli.store_access import migrated_engine
from tradewind.compat.airflow.activation import startup_notice
from tradewind.config.settings import Settings, load_settings
from tradewind.execution.tokens import WorkloadTokens
from tradewind.executors.loader import make_executor
from tradewind.log_sources import remote_store
from tradewind.runner.fork_preload import try_launcher
from tradewind.scheduler.service import SchedulerService
from tradewind.store.engine import make_session_factory


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("scheduler", help="Run the scheduler")
    parser.add_argument(
        "--no-dag-processor",
        action="store_true",
        help="do not parse the DAG folder here (run `tradewind dag-processor` separately)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.log_format)
    if (notice := startup_notice(settings)) is not None:
        print(notice, file=sys.stderr, flush=True)
    # Forked now, before any thread or database connection and after the imports it shares with this process
    # (a second interpreter would import them again: about half a second of CPU); it parses once the
    # scheduler runs, and a fresh `tradewind dag-processor` replaces it if it dies.
    runs_processor = not (args.no_dag_processor or settings.scheduler.standalone_dag_processor)
    processor = ForkedDagProcessor.fork(settings) if runs_processor else None
    try:
        return _serve(settings, processor)
    finally:
        if processor is not None:
            processor.stop()


def _serve(settings: Settings, processor: ForkedDagProcessor | None) -> int:
    # Its own process, so the tries' calls never wait for this interpreter's lock while a tick holds it; a
    # fork, like the processor, so first, before any thread or database connection.
    tokens, stop_api = scheduler_tokens(settings, in_child=True, fork_first=True)
    try:
        return _schedule(settings, processor, tokens)
    finally:
        stop_api()


def _schedule(settings: Settings, processor: ForkedDagProcessor | None, tokens: WorkloadTokens) -> int:
    engine = migrated_engine(settings, what="the scheduler")
    stop = threading.Event()
    install_stop_signals(stop)
    metrics, stop_metrics = start_service_metrics(settings)
    log_store = remote_store(settings, make_session_factory(engine))
    service = SchedulerService(
        settings,
        engine=engine,
        executor=make_executor(settings, launcher=try_launcher(), log_store=log_store),
        tokens=tokens,
        metrics=metrics,
    )
    try:
        if processor is not None:
            processor.start()
        service.run(stop)
    finally:
        stop_metrics()
    return 0
