"""`tradewind pools list|set|delete`."""

from __future__ import annotations

import argparse

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.cli.db import explain_database_errors
from tradewind.cli.store_access import open_store
from tradewind.store.engine import transaction
from tradewind.store.pools import delete_pool, list_pools, set_pool

COLUMNS = ["name", "slots", "occupied", "queued", "running", "open", "description"]


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("pools", help="Manage pools")
    commands = parser.add_subparsers(dest="pools_command", metavar="COMMAND", required=True)

    list_parser = commands.add_parser("list", help="List pools with their occupied and open slots")
    add_output_flag(list_parser)
    list_parser.set_defaults(handler=_list)

    set_parser = commands.add_parser("set", help="Create a pool or change its slots and description")
    set_parser.add_argument("name", help="the pool's name")
    set_parser.add_argument("slots", type=int, help="how many task slots it has")
    set_parser.add_argument("description", help="what it is for")
    set_parser.set_defaults(handler=_set)

    delete = commands.add_parser("delete", help="Delete a pool (default_pool cannot be deleted)")
    delete.add_argument("name", help="the pool's name")
    delete.set_defaults(handler=_delete)


def _list(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        pools = list_pools(session=session)
    rows = [
        {
            "name": p.name,
            "slots": p.slots,
            "occupied": p.occupied,
            "queued": p.queued,
            "running": p.running,
            "open": p.open,
            "description": p.description,
        }
        for p in pools
    ]
    print_rows(rows, COLUMNS, args.output)
    return 0


def _set(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        set_pool(session=session, name=args.name, slots=args.slots, description=args.description)
    print(f"pool {args.name!r} set to {args.slots} slot(s)")
    return 0


def _delete(args: argparse.Namespace) -> int:
    store = open_store()
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        delete_pool(session=session, name=args.name)
    print(f"pool {args.name!r} deleted")
    return 0
