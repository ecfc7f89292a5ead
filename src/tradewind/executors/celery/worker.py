"""Start a Celery worker (prefork pool) that runs Tradewind task tries."""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence

from tradewind.config.settings import CelerySettings, Settings
from tradewind.executors.celery.app import (
    build_celery_app,
    default_runner_executable,
    mask_url,
    result_backend_url,
)
from tradewind.executors.celery.worker_task import RunnerLaunch
from tradewind.executors.try_launcher import TryLauncher

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


def runner_launch(
    settings: Settings, runner_executable: str | None, launcher: TryLauncher | None
) -> RunnerLaunch:
    """Fork the pre-imported worker for each try with ``launcher`` when ``core.fork_runner`` is on (the
    default) and no other runner program is named; otherwise exec the runner command."""
    if runner_executable is None and settings.core.fork_runner and launcher is not None:
        return RunnerLaunch(default_runner_executable(), launcher=launcher, settings=settings)
    return RunnerLaunch(runner_executable or default_runner_executable(), settings=settings)


def run_worker(
    settings: Settings,
    *,
    queues: Sequence[str] = (),
    concurrency: int | None = None,
    hostname: str | None = None,
    loglevel: str = "INFO",
    runner_executable: str | None = None,
    launcher: TryLauncher | None,
) -> int:
    """Run a worker in this process until it is told to stop; returns its exit code. ``launcher``: what
    runs a try in a forked worker (the CLI builds it from the runner)."""
    launch = runner_launch(settings, runner_executable, launcher)
    if launch.launcher is not None:
        launch.launcher.preload_modules()  # before the pool forks: every pool process has it
    celery_settings = settings.celery
    app = build_celery_app(celery_settings, launch=launch)
    argv = worker_argv(
        celery_settings, queues=queues, concurrency=concurrency, hostname=hostname, loglevel=loglevel
    )
    log.info(
        "starting Celery worker: broker %s, result backend %s, runner %s",
        mask_url(celery_settings.broker_url.get_secret_value()),
        mask_url(result_backend_url(celery_settings)),
        "forked" if launch.launcher is not None else launch.executable,
    )
    code = app.start(argv=argv)
    return int(code or 0)
