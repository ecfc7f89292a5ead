"""`tradewind rotate-fernet-key`: re-encrypt every stored connection secret with the first Fernet key."""

from __future__ import annotations

import argparse

from tradewind.cli.arguments import Subparsers
from tradewind.cli.db import explain_database_errors
from tradewind.cli.store_access import open_store
from tradewind.store.connections import rotate_fernet_key
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "rotate-fernet-key",
        help="Re-encrypt stored connection passwords and extras with the first key of [core] fernet_key",
        description=(
            "To change the Fernet key: put the new key first in [core] fernet_key, keeping the old one after "
            "a comma; run this command; then drop the old key."
        ),
    )
    parser.set_defaults(handler=_rotate)


def _rotate(args: argparse.Namespace) -> int:
    store = open_store()
    cipher = FieldCipher.from_settings(store.settings)
    with explain_database_errors(store.settings), transaction(store.sessions) as session:
        rotated = rotate_fernet_key(session=session, cipher=cipher)
    print(f"re-encrypted {len(rotated)} connection(s) with the first Fernet key")
    return 0
