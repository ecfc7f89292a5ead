"""The viewer's own UI preferences: the time zone every page shows times in (kept per user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import Response

from tradewind.api.auth.login_routes import safe_next
from tradewind.api.dependencies import Ctx, Viewer
from tradewind.api.ui.rendering import redirect
from tradewind.core.timezones import is_zone_name
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import users
from tradewind.store.engine import transaction

router = APIRouter(include_in_schema=False)


@router.post("/preferences/timezone")
def set_timezone(
    ctx: Ctx,
    principal: Viewer,
    timezone: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """``timezone`` empty: follow ``[webserver] default_ui_timezone`` again."""
    chosen = timezone.strip() or None
    if chosen is not None and not is_zone_name(chosen):
        raise ParamValidationError(
            f"timezone must be an IANA time zone name such as 'Europe/Paris', got {chosen!r}",
            param="timezone",
        )
    with transaction(ctx.write_factory) as session:
        users.set_ui_timezone(session=session, user_id=principal.user_id, zone_name=chosen)
    shown = chosen or f"the default ({ctx.settings.webserver.default_ui_timezone})"
    return redirect(safe_next(next or "/dags"), f"Times are now shown in {shown}.")
