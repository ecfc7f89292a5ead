"""The `tradewind` command: composition root. Parses arguments, imports only the command group asked for,
and maps errors to exit codes (the only place exit codes are decided)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tradewind.sdk.errors import (
    ConfigError,
    ParamValidationError,
    TradewindError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

#: Command groups: name -> (module, one-line help). Each module defines ``register(subparsers)``, which adds
#: its parser(s) and sets ``handler=`` defaults: ``handler(args) -> int | None``.
GROUPS: dict[str, tuple[str, str]] = {
    "version": ("tradewind.cli.version", "Print the Tradewind version"),
    "config": ("tradewind.cli.config", "Show the effective configuration"),
    "db": ("tradewind.cli.db", "Manage the metadata database (migrate, reset, check)"),
    "dags": ("tradewind.cli.dags", "List, trigger, pause, test and backfill DAGs"),
    "tasks": ("tradewind.cli.tasks", "List, run, test, clear tasks and read their logs"),
    "variables": ("tradewind.cli.variables", "Manage variables"),
    "connections": ("tradewind.cli.connections", "Manage connections (add, get, list, export, import, test)"),
    "pools": ("tradewind.cli.pools", "Manage pools"),
    "rotate-fernet-key": (
        "tradewind.cli.fernet",
        "Re-encrypt stored connection secrets with the first Fernet key",
    ),
    "plugins": ("tradewind.cli.plugins", "List the loaded plugins and what they register"),
    "scheduler": ("tradewind.cli.scheduler", "Run the scheduler"),
    "dag-processor": ("tradewind.cli.dag_processor", "Run the DAG processor on its own"),
    "triggerer": ("tradewind.cli.triggerer", "Run the triggerer (the triggers deferred tasks wait on)"),
    "standalone": ("tradewind.cli.standalone", "Run scheduler and webserver together (SQLite, examples)"),
    "webserver": ("tradewind.cli.webserver", "Run the web UI and REST API"),
    "execution-api": ("tradewind.cli.execution_api", "Serve the task execution API alone (no UI)"),
    "users": ("tradewind.cli.users", "Manage users and API tokens"),
    "jobs": ("tradewind.cli.jobs", "Check that the scheduler and other services are alive"),
    "celery": ("tradewind.cli.celery", "Run and inspect Celery workers"),
    "kubernetes": ("tradewind.cli.kubernetes", "Inspect and clean up worker pods; run a fake cluster"),
    "deploy": ("tradewind.cli.deploy", "Deploy Tradewind to Kubernetes with its Helm chart"),
}


def build_parser(group: str | None) -> argparse.ArgumentParser:
    # argparse exits with 2 on bad arguments, which is our usage exit code too.
    parser = argparse.ArgumentParser(prog="tradewind", description="Tradewind: workflows as DAGs in Python.")
    sub = parser.add_subparsers(dest="group", metavar="COMMAND")
    for name, (module_name, help_text) in GROUPS.items():
        if name == group:
            module = importlib.import_module(module_name)
            module.register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    group = args_list[0] if args_list and args_list[0] in GROUPS else None
    parser = build_parser(group)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return int(exc.code or 0)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE if args_list else EXIT_OK
    try:
        result = handler(args)
    except KeyboardInterrupt:
        return 130
    except (ConfigError, ParamValidationError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except TradewindError as exc:  # NotFoundError, ConflictError, AuthenticationError ... too
        _error(str(exc))
        return EXIT_FAILURE
    except Exception as exc:
        if type(exc).__module__.startswith("sqlalchemy"):
            # Database unreachable, or a schema older than this release: say so without a traceback.
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _error(f"metadata database error: {first_line}. Is the database reachable and migrated "
                   "(`tradewind db check`, `tradewind db migrate`)?")
            return EXIT_FAILURE
        raise
    return EXIT_OK if result is None else int(result)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
