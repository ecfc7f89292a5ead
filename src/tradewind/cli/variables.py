"""`tradewind variables get|set|list|delete|import|export`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.cli.db import explain_database_errors
from tradewind.cli.store_access import open_store
from tradewind.core.redaction import redact_json_text
from tradewind.sdk.errors import NotFoundError, ParamValidationError
from tradewind.secrets.chain import secrets_chain
from tradewind.store.engine import transaction
from tradewind.store.variables import (
    delete_variable,
    export_variables,
    import_variables,
    list_variables,
    set_variable,
)

_NO_DEFAULT = object()


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("variables", help="Manage variables")
    commands = parser.add_subparsers(dest="variables_command", metavar="COMMAND", required=True)

    get = commands.add_parser("get", help="Print a variable's value")
    get.add_argument("key", help="the variable's key")
    get.add_argument("--default", default=_NO_DEFAULT, help="print this when the variable does not exist")
    get.add_argument("--json", action="store_true", help="decode the value as JSON and print it indented")
    get.set_defaults(handler=_get)

    set_parser = commands.add_parser("set", help="Create or replace a variable")
    set_parser.add_argument("key", help="the variable's key")
    set_parser.add_argument("value", help="its value (text; JSON is kept as written)")
    set_parser.add_argument("--json", action="store_true", help="check that VALUE is valid JSON")
    set_parser.add_argument("--description", default=None, help="what the variable is for")
    set_parser.set_defaults(handler=_set)

    list_parser = commands.add_parser("list", help="List variables (secret-looking values masked)")
    add_output_flag(list_parser)
    list_parser.set_defaults(handler=_list)

    delete = commands.add_parser("delete", help="Delete a variable")
    delete.add_argument("key", help="the variable's key")
    delete.set_defaults(handler=_delete)

    import_parser = commands.add_parser("import", help="Set variables from a JSON object file")
    import_parser.add_argument("file", type=Path, help="a JSON file of {key: value}")
    import_parser.set_defaults(handler=_import)

    export = commands.add_parser("export", help="Write every variable to a JSON object file ('-' for stdout)")
    export.add_argument("file", help="where to write the JSON (- for stdout)")
    export.set_defaults(handler=_export)


def _get(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings):
        # The secrets backends first ([secrets], environment), the database last: as task code sees it.
        found = secrets_chain(store.settings, store.sessions).get_variable(args.key)
    if found is None:
        if args.default is _NO_DEFAULT:
            raise NotFoundError(f"variable {args.key!r} does not exist", kind="variable", ident=args.key)
        found = args.default
    value = found
    if args.json:
        try:
            value = json.dumps(json.loads(value), indent=2)
        except ValueError:
            raise ParamValidationError(f"variable {args.key!r} does not hold JSON", param=args.key) from None
    print(value)
    return 0


def _set(args: argparse.Namespace) -> int:
    if args.json:
        try:
            json.loads(args.value)
        except ValueError as exc:
            raise ParamValidationError(
                f"value of {args.key!r} is not valid JSON: {exc}", param=args.key
            ) from None
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        set_variable(session=session, key=args.key, value=args.value, description=args.description)
    print(f"variable {args.key!r} set")
    return 0


def _list(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        rows, _total = list_variables(session=session)
        data = [
            {"key": r.key, "value": redact_json_text(r.val, r.key)[0], "description": r.description}
            for r in rows
        ]
    print_rows(data, ["key", "value", "description"], args.output)
    return 0


def _delete(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        delete_variable(session=session, key=args.key)
    print(f"variable {args.key!r} deleted")
    return 0


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"file {path} does not exist", kind="file", ident=str(path)) from None
    except ValueError as exc:
        raise ParamValidationError(f"{path} is not valid JSON: {exc}", param="file") from None
    if not isinstance(data, dict):
        raise ParamValidationError(f"{path} must hold a JSON object of key: value", param="file")
    return data


def _import(args: argparse.Namespace) -> int:
    mapping = _read_mapping(args.file)
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        count = import_variables(session=session, mapping=mapping)
    print(f"{count} variable(s) imported from {args.file}")
    return 0


def _export(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        data = export_variables(session=session)
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    Path(args.file).write_text(text, encoding="utf-8")
    print(f"{len(data)} variable(s) exported to {args.file}")
    return 0
