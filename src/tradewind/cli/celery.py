"""`tradewind celery`: run a Celery worker for the Celery executor, and list the workers and what they run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from celery.signals import setup_logging

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.cli.console_logging import configure_logging
from tradewind.config.settings import load_settings
from tradewind.executors.celery.app import build_celery_app, mask_url
from tradewind.executors.celery.inspection import list_workers
from tradewind.executors.celery.worker import run_worker
from tradewind.sdk.errors import ExecutorError


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("celery", help="Run and inspect Celery workers")
    sub = group.add_subparsers(dest="celery_command", metavar="SUBCOMMAND", required=True)

    worker = sub.add_parser("worker", help="Run a Celery worker that executes task tries")
    worker.add_argument(
        "-q", "--queues", default=None, help="comma-separated queues (default: celery.default_queue)"
    )
    worker.add_argument(
        "-c", "--concurrency", type=int, default=None, help="processes (default: celery.worker_concurrency)"
    )
    worker.add_argument("-H", "--hostname", default=None, help="worker name (default: tradewind@HOST)")
    worker.add_argument(
        "-l",
        "--loglevel",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="the worker's own log level (default: INFO)",
    )
    worker.add_argument(
        "--runner-executable",
        default=None,
        help="run each try as `PROGRAM tasks run ...` (default: fork the worker, or exec the tradewind "
        "console script when core.fork_runner is false)",
    )
    worker.set_defaults(handler=_worker)

    status = sub.add_parser("status", help="List the Celery workers that answer and their active tasks")
    status.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for workers to answer")
    add_output_flag(status)
    status.set_defaults(handler=_status)


def _worker(args: argparse.Namespace) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise ExecutorError(f"--concurrency must be at least 1, got {args.concurrency}")
    from tradewind.core.process_title import keep_environment_on_retitle
    from tradewind.runner.fork_preload import try_launcher

    keep_environment_on_retitle()  # Celery retitles its processes; their tries' /proc environment stays
    queues = [q.strip() for q in (args.queues or "").split(",") if q.strip()]
    settings = load_settings()
    if settings.logging.log_format == "json":
        _json_worker_logs(args.loglevel)
    return run_worker(
        settings,
        queues=queues,
        concurrency=args.concurrency,
        hostname=args.hostname,
        loglevel=args.loglevel,
        runner_executable=args.runner_executable,
        launcher=try_launcher(),
    )


def _json_worker_logs(level: str) -> None:
    """Celery configures the worker's logging itself (text, its own format) unless a receiver of its
    ``setup_logging`` signal does: ours makes the worker and its pool processes write JSON lines."""

    def configure(**_: object) -> None:
        configure_logging(level, "json")

    setup_logging.connect(configure, weak=False)
    configure(level=level)  # and now, for what is logged before Celery sets up its logging


def _status(args: argparse.Namespace) -> int:
    settings = load_settings().celery
    app = build_celery_app(settings)
    try:
        workers = list_workers(app, timeout=args.timeout)
    finally:
        app.close()
    if not workers:
        broker = mask_url(settings.broker_url.get_secret_value())
        raise ExecutorError(f"no Celery worker answered within {args.timeout:g}s on broker {broker}")
    if args.output == "json":
        doc: list[dict[str, Any]] = [
            {
                "worker": w.hostname,
                "queues": w.queues,
                "concurrency": w.concurrency,
                "active": [
                    {
                        "celery_id": t.celery_id,
                        "dag_id": t.dag_id,
                        "task_id": t.task_id,
                        "run_id": t.run_id,
                        "map_index": t.map_index,
                        "try_number": t.try_number,
                        "started": t.started.isoformat() if t.started else None,
                    }
                    for t in w.active
                ],
            }
            for w in workers
        ]
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    worker_rows = [
        {
            "worker": w.hostname,
            "queues": ",".join(w.queues),
            "concurrency": w.concurrency,
            "active": len(w.active),
        }
        for w in workers
    ]
    print_rows(worker_rows, ["worker", "queues", "concurrency", "active"], args.output)
    task_rows = [
        {
            "worker": w.hostname,
            "dag_id": t.dag_id,
            "task_id": t.task_id,
            "run_id": t.run_id,
            "map_index": t.map_index,
            "try_number": t.try_number,
            "started": t.started,
            "celery_id": t.celery_id,
        }
        for w in workers
        for t in w.active
    ]
    if task_rows:
        columns = ["worker", "dag_id", "task_id", "run_id", "map_index", "try_number", "started", "celery_id"]
        print_rows(task_rows, columns, args.output)
    return 0
