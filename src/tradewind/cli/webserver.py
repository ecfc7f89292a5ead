"""`tradewind webserver [--host H] [--port P]`: the web UI and REST API (port 8080 by default)."""

from __future__ import annotations

import argparse

from tradewind.cli.arguments import Subparsers
from tradewind.cli.console_logging import configure_logging
from tradewind.config.settings import load_settings


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("webserver", help="Run the web UI and REST API")
    parser.add_argument(
        "--host", default=None, help="address to listen on (default: webserver.host, 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port to listen on (default: webserver.port, 8080)"
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tradewind.api.server import serve

    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.log_format)
    host = args.host or settings.webserver.host
    port = args.port or settings.webserver.port
    print(f"Tradewind webserver at http://{host}:{port}/", flush=True)
    serve(settings, host, port)
    return 0
