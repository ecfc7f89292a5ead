"""`tradewind standalone`: migrate the database, create an admin, and run the scheduler (with its DAG
processor), the triggerer and the webserver together, with the example DAGs. For trying Tradewind on one
machine."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable

from tradewind.cli.arguments import Subparsers
from tradewind.cli.console_logging import configure_logging
from tradewind.cli.execution_api import scheduler_tokens
from tradewind.cli.metrics_serving import serve_metrics
from tradewind.cli.scheduler import install_stop_signals
from tradewind.compat.airflow.activation import startup_notice
from tradewind.config.settings import load_settings
from tradewind.executors.loader import make_executor
from tradewind.log_sources import remote_store
from tradewind.observability.metrics_setup import MetricsSetup, build_metrics
from tradewind.runner.fork_preload import try_launcher
from tradewind.scheduler.service import SchedulerService
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.migrate import upgrade
from tradewind.triggerer.service import TriggererService

log = logging.getLogger("tradewind.standalone")


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("standalone", help="Run scheduler and webserver together (SQLite, examples)")
    parser.add_argument("--host", default=None, help="webserver host (default: webserver.host)")
    parser.add_argument("--port", type=int, default=None, help="webserver port (default: webserver.port)")
    parser.add_argument("--no-webserver", action="store_true", help="run only the scheduler (and triggerer)")
    parser.add_argument(
        "--no-triggerer", action="store_true", help="do not run a triggerer (deferred tasks wait)"
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    # Examples are on by default here; the DAG processor child reads the same environment.
    os.environ.setdefault("TRADEWIND__CORE__LOAD_EXAMPLES", "true")
    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.log_format)
    if (notice := startup_notice(settings)) is not None:
        print(notice, file=sys.stderr, flush=True)
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.dags_folder.mkdir(parents=True, exist_ok=True)
    settings.base_log_folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine, default_pool_slots=settings.core.default_pool_slots)

    stop = threading.Event()
    # One process, one registry: the webserver's /metrics shows the scheduler and triggerer too.
    metrics_setup = build_metrics(settings)
    scheduler = SchedulerService(
        settings, engine=engine, executor=make_executor(settings, launcher=try_launcher(), log_store=remote_store(settings, make_session_factory(engine))), metrics=metrics_setup.metrics
    )
    scheduler_thread = threading.Thread(target=scheduler.run, args=(stop,), name="scheduler")
    # Started with the scheduler; its child process runs the triggers without the database credentials.
    companions: list[threading.Thread] = []
    if not args.no_triggerer:
        triggerer = TriggererService(settings, engine=engine, metrics=metrics_setup.metrics)
        companions.append(threading.Thread(target=triggerer.run, args=(stop,), name="triggerer"))
    stop_api: list[Callable[[], None]] = []
    try:
        if args.no_webserver:
            install_stop_signals(stop)
            if (server := serve_metrics(settings, metrics_setup)) is not None:
                stop_api.append(server.stop)
            _start_scheduler(scheduler, [scheduler_thread, *companions], stop_api)
            stop.wait()
        else:
            # The webserver comes up first: both start-ups are CPU-bound imports sharing one interpreter,
            # and a user waits for the page, not for the scheduler's first tick.
            web_ready = threading.Event()
            threading.Thread(
                target=_start_after,
                args=(web_ready, scheduler, [scheduler_thread, *companions], stop, stop_api),
                name="scheduler-starter",
                daemon=True,
            ).start()
            _serve_web(settings, engine, args, web_ready, metrics_setup)
    finally:
        stop.set()
        for thread in (scheduler_thread, *companions):
            if thread.is_alive():
                thread.join()
        for stop_server in stop_api:
            stop_server()
        metrics_setup.close()
    return 0


def _start_scheduler(
    scheduler: SchedulerService, threads: list[threading.Thread], stop_api: list[Callable[[], None]]
) -> None:
    """Serve the execution API (unless a URL is configured) for the tries, then start the scheduler (the
    first thread) and the services beside it."""
    tokens, stop_server = scheduler_tokens(scheduler.settings)
    stop_api.append(stop_server)
    scheduler.tokens = tokens
    for thread in threads:
        thread.start()


def _start_after(
    ready: threading.Event,
    scheduler: SchedulerService,
    threads: list[threading.Thread],
    stop: threading.Event,
    stop_api: list[Callable[[], None]],
) -> None:
    while not ready.wait(0.1):
        if stop.is_set():
            return
    if not stop.is_set():
        _start_scheduler(scheduler, threads, stop_api)


def _serve_web(
    settings: object,
    engine: object,
    args: argparse.Namespace,
    ready: threading.Event,
    metrics_setup: MetricsSetup,
) -> None:
    from tradewind.actions.accounts import ensure_admin_user
    from tradewind.api.server import serve
    from tradewind.config.settings import Settings

    assert isinstance(settings, Settings)
    generated = ensure_admin_user(settings, make_session_factory(engine))  # type: ignore[arg-type]
    host = args.host or settings.webserver.host
    port = args.port or settings.webserver.port
    print(f"\nTradewind is starting at http://{host}:{port}/", flush=True)
    if generated is not None:
        user = os.environ.get("TRADEWIND_ADMIN_USER", "admin")
        print(f"Log in as {user!r} with the generated password: {generated}  (shown once)\n", flush=True)
    serve(settings, host, port, ready=ready, metrics_setup=metrics_setup)  # returns on SIGINT/SIGTERM (uvicorn handles them)
