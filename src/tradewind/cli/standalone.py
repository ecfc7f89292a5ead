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
from typing import TYPE_CHECKING

from tradewind.cli.arguments import Subparsers
from tradewind.cli.console_logging import configure_logging
from tradewind.cli.forked_dag_processor import ForkedDagProcessor
from tradewind.compat.airflow.activation import startup_notice
from tradewind.config.settings import Settings, load_settings
from tradewind.observability.metrics_setup import MetricsSetup, build_metrics
from tradewind.store.database_wait import wait_for_database
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.migrate import upgrade

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tradewind.cli.standalone_services import StandaloneServices

log = logging.getLogger("tradewind.standalone")

#: glibc's ``mallopt`` parameter for the most malloc arenas (M_ARENA_MAX).
_M_ARENA_MAX = -8
#: Arenas the standalone's processes keep: glibc gives each thread that allocates an arena of its own (up to
#: 8 per core), each holding freed memory apart; its dozen threads mostly wait.
MALLOC_ARENAS = 2


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
    _limit_malloc_arenas()
    # Forked now, before any thread or database connection, and after the imports it shares with this process
    # (its pages are shared, not loaded twice); it parses once the scheduler starts.
    processor = None if settings.scheduler.standalone_dag_processor else ForkedDagProcessor.fork(settings)
    try:
        return _run_services(args, settings, processor)
    finally:
        if processor is not None:
            processor.stop()


def _run_services(
    args: argparse.Namespace, settings: Settings, processor: ForkedDagProcessor | None
) -> int:
    engine = make_engine(settings.database_url)
    wait_for_database(
        engine,
        lambda: upgrade(engine, default_pool_slots=settings.core.default_pool_slots),
        window=settings.database.outage_timeout,
        what="`tradewind standalone`",
    )

    stop = threading.Event()
    # One process, one registry: the webserver's /metrics shows the scheduler and triggerer too.
    metrics_setup = build_metrics(settings)
    starter = _ServicesStarter(
        settings, engine, metrics_setup, stop, triggerer=not args.no_triggerer, processor=processor
    )
    try:
        if args.no_webserver:
            from tradewind.cli.metrics_serving import serve_metrics
            from tradewind.cli.stop_signals import install_stop_signals

            install_stop_signals(stop)
            if (server := serve_metrics(settings, metrics_setup)) is not None:
                starter.on_stop.append(server.stop)
            starter.run(None)
            starter.raise_failure()
            stop.wait()
        else:
            # The webserver comes up first, then completes its routes, and the scheduler's imports and start-up
            # follow on a thread: they share one interpreter, and a user waits for the page and the API, not for
            # the scheduler's first tick.
            web_complete = threading.Event()
            starter.thread = threading.Thread(
                target=starter.run, args=(web_complete,), name="scheduler-starter"
            )
            starter.thread.start()
            _serve_web(settings, engine, args, web_complete, metrics_setup, stop)
            starter.raise_failure()
    finally:
        stop.set()
        starter.join()
        metrics_setup.close()
    return 0


def _limit_malloc_arenas() -> None:
    """Before the first thread (and the fork, which inherits it): fewer malloc arenas, less idle memory held
    in them. Only this process and its forks: the tries it starts keep glibc's default."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
        except (OSError, AttributeError):  # not glibc
            log.debug("could not limit the malloc arenas", exc_info=True)


class _ServicesStarter:
    """Builds and starts the scheduler and triggerer (``StandaloneServices``), once the event ``run`` is given
    is set (the webserver has all its routes), then lets the forked DAG processor parse. A failure to build
    them (a bad executor or secrets setting) sets ``stop``, which ends the webserver too, and is raised in the
    main thread (``raise_failure``) for its exit code."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        metrics_setup: MetricsSetup,
        stop: threading.Event,
        *,
        triggerer: bool,
        processor: ForkedDagProcessor | None,
    ) -> None:
        self.settings, self.engine, self.metrics_setup = settings, engine, metrics_setup
        self.stop, self.triggerer, self.processor = stop, triggerer, processor
        self.thread: threading.Thread | None = None
        self.services: StandaloneServices | None = None
        self.failure: BaseException | None = None
        #: Called after the services stopped (servers this command started beside them).
        self.on_stop: list[Callable[[], None]] = []

    def run(self, after: threading.Event | None) -> None:
        if after is not None:
            while not after.wait(0.1):
                if self.stop.is_set():
                    return
        if self.stop.is_set():
            return
        try:
            from tradewind.cli.standalone_services import StandaloneServices

            self.services = StandaloneServices(
                self.settings,
                engine=self.engine,
                metrics_setup=self.metrics_setup,
                stop=self.stop,
                triggerer=self.triggerer,
            )
            if not self.stop.is_set():
                self.services.start()
                if self.processor is not None:
                    self.processor.start()
        except Exception as exc:  # raised again in the main thread, which owns the exit codes
            self.failure = exc
            self.stop.set()

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def join(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.thread.join()
        if self.services is not None:
            self.services.join()
        for stop_server in self.on_stop:
            stop_server()


def _serve_web(
    settings: Settings,
    engine: Engine,
    args: argparse.Namespace,
    complete: threading.Event,
    metrics_setup: MetricsSetup,
    stop: threading.Event,
) -> None:
    from tradewind.actions.accounts import ensure_admin_user
    from tradewind.api.server import serve

    generated = ensure_admin_user(settings, make_session_factory(engine))
    host = args.host or settings.webserver.host
    port = args.port or settings.webserver.port
    print(f"\nTradewind is starting at http://{host}:{port}/", flush=True)
    if generated is not None:
        user = os.environ.get("TRADEWIND_ADMIN_USER", "admin")
        print(f"Log in as {user!r} with the generated password: {generated}  (shown once)\n", flush=True)
    # Returns on SIGINT/SIGTERM (uvicorn handles them), or once ``stop`` is set.
    serve(settings, host, port, metrics_setup=metrics_setup, stop=stop, complete=complete)
