"""`tradewind users`: create, list, delete users, reset passwords, and create API tokens."""

from __future__ import annotations

import argparse
import getpass
import sys

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.cli.store_access import open_store
from tradewind.sdk.errors import ParamValidationError
from tradewind.store.users import ROLES


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("users", help="Manage users and API tokens")
    commands = parser.add_subparsers(dest="users_command", metavar="SUBCOMMAND", required=True)

    create = commands.add_parser("create", help="Create a user")
    create.add_argument("--username", required=True, help="the login name")
    create.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    _password_arguments(create)
    create.set_defaults(handler=_create)

    listing = commands.add_parser("list", help="List users")
    add_output_flag(listing)
    listing.set_defaults(handler=_list)

    delete = commands.add_parser("delete", help="Delete a user (and their API tokens)")
    delete.add_argument("--username", required=True, help="the user to delete")
    delete.set_defaults(handler=_delete)

    reset = commands.add_parser("reset-password", help="Set a new password; the user's sessions end")
    reset.add_argument("--username", required=True, help="the user whose password to reset")
    _password_arguments(reset)
    reset.set_defaults(handler=_reset)

    token = commands.add_parser("create-token", help="Create an API bearer token, printed once")
    token.add_argument("--username", required=True, help="the user the token acts as")
    token.add_argument("--name", default="", help="a label to recognise the token by")
    token.add_argument(
        "--expires-days", type=float, default=None, help="days until it expires (default: never)"
    )
    token.set_defaults(handler=_create_token)

    tokens = commands.add_parser("list-tokens", help="List API tokens (never the tokens themselves)")
    tokens.add_argument("--username", default=None, help="only this user's tokens")
    add_output_flag(tokens)
    tokens.set_defaults(handler=_list_tokens)

    revoke = commands.add_parser("revoke-token", help="Revoke an API token at once, by the id list-tokens shows")
    revoke.add_argument("token_id", type=int, help="the token's id (from `users list-tokens`)")
    revoke.set_defaults(handler=_revoke_token)

    logout = commands.add_parser(
        "logout", help="End every web session of a user at once (a lost laptop, a copied cookie)"
    )
    logout.add_argument("--username", required=True, help="the user whose sessions to end")
    logout.set_defaults(handler=_logout)


def _password_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--password", help="the password (visible in the process list; prefer --password-stdin)"
    )
    group.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise ParamValidationError("the passwords do not match", param="password")
    else:
        raise ParamValidationError("give --password or --password-stdin", param="password")
    if not password:
        raise ParamValidationError("the password is empty", param="password")
    return password


def _create(args: argparse.Namespace) -> int:
    from tradewind.actions.accounts import create_user

    store = open_store()
    create_user(store.sessions, username=args.username, password=_password(args), role=args.role)
    print(f"created user {args.username!r} with role {args.role}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from tradewind.store import users

    store = open_store()
    with store.sessions() as session:
        rows = [
            {
                "username": u.username,
                "role": u.role,
                "active": u.active,
                "created_at": u.created_at,
                "last_login": u.last_login,
            }
            for u in users.list_users(session=session)
        ]
    print_rows(rows, ["username", "role", "active", "created_at", "last_login"], args.output)
    return 0


def _delete(args: argparse.Namespace) -> int:
    from tradewind.actions.accounts import delete_user

    delete_user(open_store().sessions, username=args.username)
    print(f"deleted user {args.username!r}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from tradewind.actions.accounts import reset_password

    reset_password(open_store().sessions, username=args.username, password=_password(args))
    print(f"password of {args.username!r} changed; their sessions have ended")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from tradewind.actions.accounts import create_token

    token = create_token(
        open_store().sessions, username=args.username, name=args.name, expires_days=args.expires_days
    )
    print(token)
    print("Store this token now: it is not shown again.", file=sys.stderr)
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    from tradewind.store import api_tokens, users

    store = open_store()
    with store.sessions() as session:
        user_id = users.get_user(session=session, username=args.username).id if args.username else None
        names = {u.id: u.username for u in users.list_users(session=session)}
        rows = [
            {
                "id": t.id,
                "username": names.get(t.user_id, "?"),
                "name": t.name,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
            }
            for t in api_tokens.list_tokens(session=session, user_id=user_id)
        ]
    print_rows(rows, ["id", "username", "name", "created_at", "expires_at", "last_used_at"], args.output)
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from tradewind.actions.accounts import revoke_token

    revoked = revoke_token(open_store().sessions, token_id=args.token_id)
    if not revoked:
        print(f"no API token with id {args.token_id}", file=sys.stderr)
        return 1
    print(f"revoked API token {args.token_id}; requests carrying it are refused from now on")
    return 0


def _logout(args: argparse.Namespace) -> int:
    from tradewind.core.clock import utcnow
    from tradewind.store import users, web_sessions
    from tradewind.store.audit import record_audit
    from tradewind.store.engine import transaction

    with transaction(open_store().sessions) as session:
        user = users.get_user(session=session, username=args.username)
        ended = web_sessions.end_user_sessions(session=session, user_id=user.id)
        record_audit(session=session, event="logout_everywhere", owner=user.username,
                     extra={"sessions": ended}, now=utcnow())
    print(f"ended {ended} web session(s) of {args.username!r}; they must log in again")
    return 0
