"""`tradewind execution-api`: serve the task execution API on its own; and the wiring of the scheduler to it
(the signer of try tokens and the URL runners call: the configured one, else the scheduler's own server)."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable

from tradewind.cli.arguments import Subparsers
from tradewind.config.settings import Settings
from tradewind.execution.tokens import WorkloadTokens, signer_from_settings


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "execution-api",
        help="Serve the task execution API alone (no UI): what runners call with their try's token",
        description="Serve the task execution API under /execution on [execution_api] serve_host and "
        "serve_port (or --host/--port). The webserver serves the same routes; this runs them without the UI.",
    )
    parser.add_argument("--host", help="address to bind (default: [execution_api] serve_host)")
    parser.add_argument("--port", type=int, help="port to bind (default: [execution_api] serve_port)")
    # Internal: the scheduler's child server, serving a socket the scheduler bound, with the scheduler's
    # settings read from stdin (its end stops the server).
    parser.add_argument("--inherited-socket", type=int, help=argparse.SUPPRESS)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tradewind.api.execution.embedded import execution_server, serve_inherited
    from tradewind.cli.console_logging import configure_logging
    from tradewind.config.settings import load_settings
    from tradewind.config.settings_handoff import settings_from_payload

    if args.inherited_socket is not None:
        settings = settings_from_payload(sys.stdin.readline())
        configure_logging(settings.logging.level, settings.logging.log_format)
        serve_inherited(settings, socket.socket(fileno=args.inherited_socket))
        return 0
    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.log_format)
    api = settings.execution_api
    host = args.host or api.serve_host
    port = args.port if args.port is not None else (api.serve_port or 8793)
    print(f"serving the task execution API at http://{host}:{port}/execution", file=sys.stderr, flush=True)
    execution_server(settings, host=host, port=port).run()
    return 0


def scheduler_tokens(
    settings: Settings, *, in_child: bool = False, fork_first: bool = False
) -> tuple[WorkloadTokens, Callable[[], None]]:
    """The tokens the scheduler hands out, and how to stop the server it started for them (if any).
    ``in_child``: serve from a child process rather than a thread of this one; ``fork_first``: that child is
    first a fork of this process (call this before any thread or database connection exists)."""
    signer = signer_from_settings(settings)
    url = settings.execution_api.url
    if url:
        return WorkloadTokens(signer, url), lambda: None
    from tradewind.api.execution.embedded import EmbeddedExecutionApi

    if fork_first:
        signer.warm_up()  # this process signs a token per try, and the child it forks verifies them
    server = EmbeddedExecutionApi(settings, signer=signer, in_child=in_child, fork_first=fork_first)
    return WorkloadTokens(signer, server.start()), server.stop
