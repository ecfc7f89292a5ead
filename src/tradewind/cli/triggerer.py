"""`tradewind triggerer`: run the triggers deferred tasks wait on, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import sys
import threading

from tradewind.cli.arguments import Subparsers
from tradewind.cli.console_logging import configure_logging
from tradewind.cli.metrics_serving import start_service_metrics
from tradewind.cli.stop_signals import install_stop_signals
from tradewind.cli.store_access import migrated_engine
from tradewind.compat.airflow.activation import startup_notice
from tradewind.config.settings import load_settings
from tradewind.sdk.errors import ConfigError
from tradewind.triggerer.service import TriggererService


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "triggerer",
        help="Run the triggerer",
        description="Run the triggers deferred tasks wait on. Several triggerers share the triggers; "
        "a dead one's are taken over.",
    )
    parser.add_argument(
        "--capacity", type=int, default=None, help="most triggers to run at once ([triggerer] capacity)"
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.capacity is not None:
        if args.capacity < 1:
            raise ConfigError("--capacity must be at least 1", key="triggerer.capacity")
        settings = settings.model_copy(
            update={"triggerer": settings.triggerer.model_copy(update={"capacity": args.capacity})}
        )
    configure_logging(settings.logging.level, settings.logging.log_format)
    if (notice := startup_notice(settings)) is not None:
        print(notice, file=sys.stderr, flush=True)
    engine = migrated_engine(settings, what="the triggerer")
    stop = threading.Event()
    install_stop_signals(stop)
    metrics, stop_metrics = start_service_metrics(settings)
    try:
        TriggererService(settings, engine=engine, metrics=metrics).run(stop)
    finally:
        stop_metrics()
        engine.dispose()
    return 0
