"""The services `tradewind standalone` runs beside its webserver, each on a thread of its process: the
scheduler (with the execution API its tries call; the DAG processor is forked apart,
``cli.forked_dag_processor``) and the triggerer. Imported only once the webserver serves: the scheduler's
modules are a good part of the start-up's imports, and a user waits for the page, not for the scheduler's
first tick."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from tradewind.cli.execution_api import scheduler_tokens
from tradewind.config.settings import Settings
from tradewind.executors.loader import make_executor
from tradewind.log_sources import remote_store
from tradewind.observability.metrics_setup import MetricsSetup
from tradewind.runner.fork_preload import try_launcher
from tradewind.scheduler.service import SchedulerService
from tradewind.store.engine import make_session_factory
from tradewind.triggerer.service import TriggererService


class StandaloneServices:
    """Built before ``start``; ``join`` after ``stop`` is set waits for what was started and stops the
    execution API server."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        metrics_setup: MetricsSetup,
        stop: threading.Event,
        triggerer: bool,
    ) -> None:
        executor = make_executor(
            settings,
            launcher=try_launcher(),
            log_store=remote_store(settings, make_session_factory(engine)),
            early_fork_server=False,  # idle memory counts more here than the first try's start (issue 17)
        )
        # One process, one registry: the webserver's /metrics shows the scheduler and triggerer too.
        self.scheduler = SchedulerService(
            settings,
            engine=engine,
            executor=executor,
            metrics=metrics_setup.metrics,
        )
        self.threads = [threading.Thread(target=self.scheduler.run, args=(stop,), name="scheduler")]
        if triggerer:
            # Its child process runs the triggers without the database credentials.
            service = TriggererService(settings, engine=engine, metrics=metrics_setup.metrics)
            self.threads.append(threading.Thread(target=service.run, args=(stop,), name="triggerer"))
        self._stop_servers: list[Callable[[], None]] = []

    def start(self) -> None:
        """Serve the execution API (unless a URL is configured) for the tries, then start the scheduler and
        the services beside it."""
        tokens, stop_server = scheduler_tokens(self.scheduler.settings)
        self._stop_servers.append(stop_server)
        self.scheduler.tokens = tokens
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            if thread.is_alive():
                thread.join()
        for stop_server in self._stop_servers:
            stop_server()
