"""`tradewind connections add|get|list|delete|export|import|test` (Airflow's flags); every change audited."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tradewind.actions.actor import CommandLineUser
from tradewind.cli import connection_files
from tradewind.cli.arguments import Subparsers, print_rows
from tradewind.cli.db import explain_database_errors
from tradewind.cli.main import EXIT_FAILURE, EXIT_OK
from tradewind.cli.store_access import StoreAccess, open_store
from tradewind.core.clock import utcnow
from tradewind.core.redaction import MASK
from tradewind.plugins.registry import ensure_plugins_loaded
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NotFoundError, ParamValidationError
from tradewind.sdk.hook_registry import known_conn_types
from tradewind.secrets.chain import secrets_chain
from tradewind.secrets.connection_check import check_connection
from tradewind.secrets.connection_view import check_conn_id, masked_fields
from tradewind.store import connection_changes
from tradewind.store.connections import list_connections
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher

FIELD_FLAGS = ("type", "host", "login", "password", "schema", "port", "extra", "description")
LIST_COLUMNS = ["conn_id", "conn_type", "description", "host", "schema", "login", "port", "extra"]
GET_COLUMNS = [
    "conn_id",
    "conn_type",
    "description",
    "host",
    "schema",
    "login",
    "password",
    "port",
    "extra",
    "uri",
]
VIA = "cli"


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("connections", help="Manage connections")
    commands = parser.add_subparsers(dest="connections_command", metavar="COMMAND", required=True)

    add = commands.add_parser("add", help="Store a new connection (password and extra encrypted)")
    add.add_argument("conn_id", help="the new connection's id")
    add.add_argument("--conn-uri", help="the URI form: postgresql://user:pass@host:5432/db?sslmode=require")
    add.add_argument("--conn-json", help='the JSON form: {"conn_type": "postgres", "host": ...}')
    for name in FIELD_FLAGS:
        add.add_argument(f"--conn-{name}", dest=f"conn_{name}", help=f"the connection's {name.replace('_', ' ')}")
    add.set_defaults(handler=_add)

    get = commands.add_parser("get", help="Show a connection (secrets masked unless --show-secrets)")
    get.add_argument("conn_id", help="the connection's id")
    _output_flag(get)
    get.add_argument("--show-secrets", action="store_true", help="print the password and extra in clear")
    get.set_defaults(handler=_get)

    list_parser = commands.add_parser("list", help="List stored connections (no passwords; extra masked)")
    _output_flag(list_parser)
    list_parser.set_defaults(handler=_list)

    delete = commands.add_parser("delete", help="Delete a stored connection")
    delete.add_argument("conn_id", help="the connection's id")
    delete.set_defaults(handler=_delete)

    export = commands.add_parser(
        "export", help="Write every stored connection, secrets included, to a file only you can read"
    )
    export.add_argument("file", help="the file ('-' for stdout); its suffix gives the format")
    export.add_argument("--file-format", choices=connection_files.FILE_FORMATS, default=None, help="default: from the file's extension")
    export.add_argument(
        "--serialization-format",
        choices=connection_files.SERIALIZATION_FORMATS,
        default="uri",
        help="how each connection is written in an env file (default: uri)",
    )
    export.set_defaults(handler=_export)

    import_parser = commands.add_parser("import", help="Store the connections of a JSON, YAML or .env file")
    import_parser.add_argument("file", type=Path, help="a JSON, YAML or .env file of connections")
    import_parser.add_argument("--file-format", choices=connection_files.FILE_FORMATS, default=None, help="default: from the file's extension")
    import_parser.add_argument("--overwrite", action="store_true", help="replace connections that exist")
    import_parser.set_defaults(handler=_import)

    test = commands.add_parser("test", help="Build the connection's hook and call its test_connection()")
    test.add_argument("conn_id", help="the connection to test")
    test.set_defaults(handler=_test)


def _output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", choices=["table", "json", "yaml", "plain"], default="table", help="output format"
    )


def _user() -> str:
    return CommandLineUser.current().username


def _print(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str) -> None:
    if output == "yaml":
        sys.stdout.write(yaml.safe_dump([{c: r.get(c) for c in columns} for r in rows], sort_keys=False))
        return
    print_rows(rows, columns, output)


def _connection_from_args(args: argparse.Namespace) -> Connection:
    conn_id = check_conn_id(args.conn_id, param="conn_id")
    fields = {name: getattr(args, f"conn_{name}") for name in FIELD_FLAGS}
    given = [f"--conn-{name}" for name, value in fields.items() if value is not None]
    forms = [
        flag for flag, value in (("--conn-uri", args.conn_uri), ("--conn-json", args.conn_json)) if value
    ]
    if len(forms) > 1 or (forms and given):
        raise ParamValidationError(
            f"connection {conn_id!r}: give one of --conn-uri, --conn-json or the --conn-* fields, "
            f"not {' and '.join(forms + given)}",
            param="conn_uri",
        )
    if args.conn_uri:
        return Connection.from_uri(args.conn_uri, conn_id)
    if args.conn_json:
        return Connection.from_json(args.conn_json, conn_id)
    if not fields["type"]:
        raise ParamValidationError(
            f"connection {conn_id!r}: give --conn-uri, --conn-json or --conn-type", param="conn_type"
        )
    port = None
    if fields["port"] is not None:
        try:
            port = int(fields["port"])
        except ValueError:
            raise ParamValidationError(
                f"connection {conn_id!r}: --conn-port must be a whole number", param="conn_port"
            ) from None
    return Connection(
        conn_id=conn_id, conn_type=fields["type"], description=fields["description"], host=fields["host"],
        login=fields["login"], password=fields["password"], schema=fields["schema"], port=port,
        extra=fields["extra"],
    )  # fmt: skip


def _warn_unknown_type(connection: Connection) -> None:
    known = known_conn_types()
    if connection.conn_type not in known:
        print(
            f"warning: connection {connection.conn_id!r}: no hook is known for conn_type "
            f"{connection.conn_type!r} (known: {', '.join(known) or 'none'}); stored anyway, as Airflow does. "
            "`tradewind connections test` needs a hook for it (a provider, or your own BaseHook subclass "
            "in a plugin).",
            file=sys.stderr,
        )


def _add(args: argparse.Namespace) -> int:
    connection = _connection_from_args(args)
    store = open_store()
    ensure_plugins_loaded(store.settings)
    cipher = FieldCipher.from_settings(store.settings)
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        connection_changes.create(
            session=session, connection=connection, cipher=cipher, owner=_user(), now=utcnow(), via=VIA
        )
    _warn_unknown_type(connection)
    print(f"connection {connection.conn_id!r} added")
    return EXIT_OK


def _find(store: StoreAccess, conn_id: str) -> Connection:
    # The secrets backends first (environment, [secrets]), the database last: as task code sees it.
    with explain_database_errors(store.settings):
        connection = secrets_chain(store.settings, store.sessions).get_connection(conn_id)
    if connection is None:
        raise NotFoundError(f"connection {conn_id!r} is not defined", kind="connection", ident=conn_id)
    return connection


def _get(args: argparse.Namespace) -> int:
    store = open_store()
    connection = _find(store, args.conn_id)
    if args.show_secrets:
        row = connection.to_dict()
        row["uri"] = connection.get_uri()
    else:
        row = masked_fields(connection)
        # The URI of the masked fields, its *** left readable rather than percent-encoded.
        shown = Connection.from_fields({**row, "extra": row["extra"] or None})
        row["uri"] = shown.get_uri().replace("%2A%2A%2A", MASK)
    if args.output in ("table", "plain"):
        row["extra"] = json.dumps(row["extra"]) if row["extra"] else None
    _print([row], GET_COLUMNS, args.output)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    store = open_store()
    cipher = FieldCipher.from_settings(store.settings)
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        stored, _total = list_connections(session=session, cipher=cipher)
    rows = [masked_fields(c) for c in stored]
    if args.output in ("table", "plain"):
        for row in rows:
            row["extra"] = json.dumps(row["extra"]) if row["extra"] else None
    _print(rows, LIST_COLUMNS, args.output)
    return EXIT_OK


def _delete(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        connection_changes.delete(session=session, conn_id=args.conn_id, owner=_user(), now=utcnow(), via=VIA)
    print(f"connection {args.conn_id!r} deleted")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    file_format = (
        connection_files.file_format_of(args.file, args.file_format)
        if args.file != "-"
        else (args.file_format or "json")
    )
    store = open_store()
    cipher = FieldCipher.from_settings(store.settings)
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        stored, _total = list_connections(session=session, cipher=cipher)
    text = connection_files.serialize(stored, file_format, args.serialization_format)
    if args.file == "-":
        sys.stdout.write(text)
        return EXIT_OK
    connection_files.write_private(args.file, text)
    print(f"{len(stored)} connection(s) exported to {args.file} ({file_format}; readable by its owner only)")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    file_format = connection_files.file_format_of(str(args.file), args.file_format)
    found = connection_files.parse(args.file, file_format)
    for connection in found:
        check_conn_id(connection.conn_id or "", param="conn_id")
    store = open_store()
    ensure_plugins_loaded(store.settings)
    cipher = FieldCipher.from_settings(store.settings)
    owner, now = _user(), utcnow()
    added, replaced, skipped = [], [], []
    # One transaction: a file that fails half-way stores nothing.
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        for connection in found:
            conn_id = connection.conn_id or ""
            if connection_changes.exists(session=session, conn_id=conn_id):
                if not args.overwrite:
                    skipped.append(conn_id)
                    continue
                connection_changes.replace(
                    session=session, connection=connection, cipher=cipher, owner=owner, now=now, via=VIA
                )
                replaced.append(conn_id)
            else:
                connection_changes.create(
                    session=session, connection=connection, cipher=cipher, owner=owner, now=now, via=VIA
                )
                added.append(conn_id)
    for connection in found:
        if connection.conn_id in added + replaced:
            _warn_unknown_type(connection)
    for conn_id in skipped:
        print(f"connection {conn_id!r} exists: skipped (use --overwrite to replace it)")
    print(
        f"{len(added)} connection(s) added, {len(replaced)} replaced, {len(skipped)} skipped from {args.file}"
    )
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    store = open_store()
    ensure_plugins_loaded(store.settings)
    connection = _find(store, args.conn_id)
    result = check_connection(connection)
    if result.ok:
        print(f"connection {args.conn_id!r}: test succeeded: {result.message}")
        return EXIT_OK
    print(f"connection {args.conn_id!r}: test failed: {result.message}", file=sys.stderr)
    return EXIT_FAILURE
