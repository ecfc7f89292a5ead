"""`tradewind jobs check`: is a scheduler (or another service) alive? For liveness probes and scripts."""

from __future__ import annotations

import argparse
import socket

from tradewind.cli.arguments import Subparsers
from tradewind.cli.store_access import open_store
from tradewind.core.clock import utcnow
from tradewind.store import jobs


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("jobs", help="Check the liveness of schedulers and other services")
    cmds = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = cmds.add_parser(
        "check",
        help="Exit 0 if a job of the type has heartbeated recently, 1 otherwise",
        description="Used by liveness probes: `tradewind jobs check --job-type scheduler --local`.",
    )
    p.add_argument(
        "--job-type",
        default="scheduler",
        choices=["scheduler", "triggerer", "dag_processor", "webserver"],
        help="the kind of service to check (default: scheduler)",
    )
    p.add_argument("--local", action="store_true", help="only jobs running on this host (pod)")
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=(
            "seconds since the last heartbeat (default: scheduler.scheduler_health_check_threshold, or "
            "triggerer.triggerer_health_check_threshold for triggerers; at least 3 heartbeat intervals)"
        ),
    )
    p.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    store = open_store()
    settings = store.settings
    default = (
        settings.triggerer.liveness_threshold if args.job_type == "triggerer" else settings.scheduler.liveness_threshold
    )
    threshold = args.threshold or default
    host = store.settings.core.hostname or socket.gethostname()
    with store.sessions() as session:
        alive = jobs.alive_jobs(session=session, job_type=args.job_type, threshold_seconds=threshold, now=utcnow())
    if args.local:
        alive = [j for j in alive if j.hostname == host]
    store.engine.dispose()
    if alive:
        print(f"{len(alive)} alive {args.job_type} job(s): " + ", ".join(f"{j.id}@{j.hostname}" for j in alive))
        return 0
    where = f" on {host}" if args.local else ""
    print(f"no {args.job_type} job{where} has heartbeated in the last {threshold:g} s")
    return 1
