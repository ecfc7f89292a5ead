"""Build the Celery app from Settings: JSON only, late acks, routing by queue, the one Tradewind task."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from tradewind.config.settings import CelerySettings
from tradewind.core.console_script import tradewind_executable
from tradewind.executors.celery.worker_task import TASK_NAME, RunnerLaunch, execute_workload

#: Results live at least this long (seconds), so a scheduler that restarts still finds finished tries.
MIN_RESULT_EXPIRES = 24 * 3600

_REDIS_SCHEMES = ("redis://", "rediss://", "redis+socket://")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``**``: the only form a broker or backend URL is shown in."""
    masked: str = maybe_sanitize_url(url)
    return masked


def result_backend_url(settings: CelerySettings) -> str:
    """``celery.result_backend`` if set; else the broker itself when it is Redis, else ``rpc://``.

    ``rpc://`` sends results back over the broker to the process that sent the task: it works, but a
    restarted scheduler cannot see tries sent before the restart (they are not adopted, see docs/celery.md).
    """
    if settings.result_backend is not None and settings.result_backend.get_secret_value():
        return settings.result_backend.get_secret_value()
    broker = settings.broker_url.get_secret_value()
    if broker.startswith(_REDIS_SCHEMES):
        return broker
    return "rpc://"


def is_persistent_backend(url: str) -> bool:
    """Whether results outlive the process that sent the task (everything but ``rpc://``)."""
    return not url.startswith("rpc://")


def celery_config(settings: CelerySettings) -> dict[str, Any]:
    backend = result_backend_url(settings)
    return {
        "broker_url": settings.broker_url.get_secret_value(),
        "result_backend": backend,
        # Data only: a message can never carry code to a worker.
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # A worker killed mid-task leaves its message unacknowledged, so the broker redelivers it; the
        # runner's compare-and-set makes the second delivery a no-op if the first runner got going.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_track_started": True,
        "worker_prefetch_multiplier": settings.prefetch_multiplier,
        # After a broker reconnect, restore the full prefetch at once: with late acks, the gradual restore
        # can leave a worker whose running try's ack went to the old connection consuming nothing.
        "worker_enable_prefetch_count_reduction": False,
        "worker_concurrency": settings.worker_concurrency,
        # Redis: a message unacknowledged for visibility_timeout is handed out again. kombu looks for such
        # messages every 10 s but by default only scans on every 10th look; scan on each.
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_throttle": 1,
        },
        "task_default_queue": settings.default_queue,
        "task_create_missing_queues": True,
        "result_extended": True,
        "result_expires": max(MIN_RESULT_EXPIRES, 2 * settings.visibility_timeout),
        # A redelivered message whose try already succeeded is not run again.
        "worker_deduplicate_successful_tasks": is_persistent_backend(backend),
        # Keep running tries through a broker outage; the runner's compare-and-set absorbs a redelivery.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "broker_connection_retry_on_startup": True,
        # A Redis result backend that vanishes must not hold the executor's client thread for long.
        "redis_socket_connect_timeout": 10,
        "redis_socket_timeout": 30,
        "task_publish_retry_policy": {
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 2,
        },
        "enable_utc": True,
        "timezone": "UTC",
    }


def default_runner_executable() -> str:
    """The ``tradewind`` console script (see ``core.console_script``)."""
    return tradewind_executable()


def build_celery_app(settings: CelerySettings, *, launch: RunnerLaunch | None = None) -> Celery:
    """A new Celery app for ``settings``. ``launch`` says how a worker starts the runner (default: exec the
    ``tradewind`` console script); only workers use it."""
    app = Celery("tradewind", set_as_current=False)
    app.conf.update(celery_config(settings))
    runner_launch = launch or RunnerLaunch(default_runner_executable())

    def run_workload(workload: dict[str, Any]) -> int:
        return execute_workload(workload, launch=runner_launch)

    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, track_started=True)(run_workload)
    return app
