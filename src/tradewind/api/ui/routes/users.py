"""Pages for admins: users (create, change role, delete), the roles and what each may do, and API tokens
(list without their secret, create shown once, revoke). Every change goes through the audited actions the
`tradewind users` commands use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tradewind.actions import accounts
from tradewind.api.auth.authentication import Principal
from tradewind.api.dependencies import Admin, Ctx, DbSession
from tradewind.api.ui.rendering import redirect, render
from tradewind.core.clock import utcnow
from tradewind.sdk.errors import ConflictError, ParamValidationError
from tradewind.store import api_tokens, users

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]

#: What each role may do, strongest last; the checks themselves are tradewind.api.auth.authentication.require(role).
ROLE_ABILITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "viewer",
        (
            "read every page and API route: DAGs, runs, task tries and logs, XComs, variables, pools, "
            "assets, the audit log, health",
            "pick their own time zone for the UI",
        ),
    ),
    (
        "op",
        (
            "everything a viewer may",
            "trigger runs, clear, mark success/failed/skipped, set run states",
            "pause and unpause DAGs",
            "see, create and edit connections",
        ),
    ),
    (
        "admin",
        (
            "everything an op may",
            "create, edit and delete variables and pools; delete DAG metadata",
            "manage users and their roles, and API tokens",
            "read the configuration (secrets masked)",
        ),
    ),
)


def _not_self(principal: Principal, username: str, what: str) -> None:
    # An admin locking themselves out would leave nobody to undo it from the UI.
    if username == principal.username:
        raise ConflictError(f"you cannot {what} your own account {username!r}; ask another admin")


@router.get("/users")
def user_list(request: Request, session: DbSession, _: Admin) -> Response:
    return render(request, "users.html", users=users.list_users(session=session), roles=users.ROLES)


@router.post("/users/new")
def user_create(
    ctx: Ctx, principal: Admin, username: Text = "", role: Text = "viewer", password: Text = ""
) -> Response:
    name = username.strip()
    accounts.create_user(
        ctx.write_factory, username=name, password=password, role=role, actor=principal.username
    )
    return redirect("/users", f"User {name} created with role {role}.")


@router.post("/users/{username}/role")
def user_set_role(username: str, ctx: Ctx, principal: Admin, role: Text = "") -> Response:
    _not_self(principal, username, "change the role of")
    accounts.set_role(ctx.write_factory, username=username, role=role, actor=principal.username)
    return redirect("/users", f"User {username} now has role {role}.")


@router.post("/users/{username}/delete")
def user_delete(username: str, ctx: Ctx, principal: Admin) -> Response:
    _not_self(principal, username, "delete")
    accounts.delete_user(ctx.write_factory, username=username, actor=principal.username)
    return redirect("/users", f"User {username} deleted.")


@router.get("/roles")
def role_list(request: Request, _: Admin) -> Response:
    return render(request, "roles.html", roles=ROLE_ABILITIES)


def _token_page(request: Request, session: DbSession, *, created: str | None = None) -> Response:
    everyone = users.list_users(session=session)
    names = {u.id: u.username for u in everyone}
    return render(
        request,
        "tokens.html",
        tokens=api_tokens.list_tokens(session=session),
        names=names,
        usernames=[u.username for u in everyone],
        created=created,
        now=utcnow(),
    )


@router.get("/tokens")
def token_list(request: Request, session: DbSession, _: Admin) -> Response:
    return _token_page(request, session)


def _expires_days(value: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ParamValidationError(
            f"expires_days must be a number of days, got {value!r}", param="expires_days"
        ) from None


@router.post("/tokens/new")
def token_create(
    request: Request,
    session: DbSession,
    ctx: Ctx,
    principal: Admin,
    username: Text = "",
    name: Text = "",
    expires_days: Text = "",
) -> Response:
    token = accounts.create_token(
        ctx.write_factory,
        username=username,
        name=name.strip(),
        expires_days=_expires_days(expires_days),
        actor=principal.username,
    )
    # Shown in this one response (never stored, never in a redirect's cookie or URL), as the CLI prints it.
    response = _token_page(request, session, created=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tokens/{token_id}/revoke")
def token_revoke(token_id: int, ctx: Ctx, principal: Admin) -> Response:
    if not accounts.revoke_token(ctx.write_factory, token_id=token_id, actor=principal.username):
        return redirect("/tokens", f"No API token with id {token_id}.")
    return redirect("/tokens", f"API token {token_id} revoked.")
