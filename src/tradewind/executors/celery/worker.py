"""Start a Celery worker (prefork pool) that runs Tradewind task tries."""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence

from tradewind.config.settings import CelerySettings
from tradewind.executors.celery.app import build_celery_app, mask_url, result_backend_url

log = logging.getLogger(__name__)


def default_hostname() -> str:
    return f"tradewind@{socket.gethostname()}"


def worker_argv(
    settings: CelerySettings,
    *,
    queues: Sequence[str] = (),
    concurrency: int | None = None,
    hostname: str | None = None,
    loglevel: str = "INFO",
) -> list[str]:
    """The ``celery worker`` arguments: the settings' defaults unless given."""
    return [
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        f"--queues={','.join(queues) if queues else settings.default_queue}",
        f"--hostname={hostname or default_hostname()}",
        f"--loglevel={loglevel}",
        # Workers learn about each other's revokes through the broker; gossip and mingle only slow startup.
        "--without-gossip",
        "--without-mingle",
    ]


def run_worker(
    settings: CelerySettings,
    *,
    queues: Sequence[str] = (),
    concurrency: int | None = None,
    hostname: str | None = None,
    loglevel: str = "INFO",
    runner_executable: str | None = None,
) -> int:
    """Run a worker in this process until it is told to stop; returns its exit code."""
    app = build_celery_app(settings, runner_executable=runner_executable)
    argv = worker_argv(settings, queues=queues, concurrency=concurrency, hostname=hostname, loglevel=loglevel)
    log.info(
        "starting Celery worker: broker %s, result backend %s",
        mask_url(settings.broker_url.get_secret_value()),
        mask_url(result_backend_url(settings)),
    )
    code = app.start(argv=argv)
    return int(code or 0)
