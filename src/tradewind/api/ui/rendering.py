"""Rendering UI pages: the Jinja2 environment with its filters, flash messages and redirects."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from fastapi import Request
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

import tradewind.web
from tradewind.api.context import page_context
from tradewind.api.errors import SEE_OTHER
from tradewind.core.redaction import redact
from tradewind.core.timezones import UTC_NAME, format_in_zone, zone_names

FLASH_COOKIE = "tradewind_flash"
#: The live-state key (``tradewind.api.ui.live_state``) of what a flash speaks of, so the page can drop the
#: flash once that state moves on ("run ... is queued").
FLASH_FOLLOW_COOKIE = "tradewind_flash_follow"
WEB_DIR = Path(tradewind.web.__file__).parent
STATIC_DIR = WEB_DIR / "static"


@jinja2.pass_context
def _when(context: jinja2.runtime.Context, value: datetime | str | None) -> str:
    """The one way a page shows a time: in the viewer's zone (``ui_tz``), the zone named after it."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text) if text else None
        except ValueError:
            return text  # not a time after all: shown as it is
    return format_in_zone(value, context.get("ui_tz") or UTC_NAME)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _markdown(text: str | None) -> Markup:
    # Imported at the first doc_md shown: a webserver that shows none never loads the parser's ~60 modules.
    from markdown_it import MarkdownIt

    # "html": False escapes raw HTML in doc_md, so a DAG author cannot inject script into the UI.
    renderer = MarkdownIt("commonmark", {"html": False})
    return Markup(renderer.render(text or ""))


def _urlpart(value: object) -> str:
    return quote(str(value), safe="")


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(when=_when, duration=_duration, markdown=_markdown, u=_urlpart, redact=redact)
    env.globals["zone_names"] = zone_names
    return Jinja2Templates(env=env)


def render(request: Request, name: str, *, status_code: int = 200, **values: Any) -> Response:
    templates: Jinja2Templates = request.app.state.ctx.templates
    cookie = request.cookies.get(FLASH_COOKIE)
    flash = unquote(cookie) if cookie else None
    follow = request.cookies.get(FLASH_FOLLOW_COOKIE)
    flash_follow = unquote(follow) if cookie and follow else None
    response = templates.TemplateResponse(
        request,
        name,
        page_context(request, flash=flash, flash_follow=flash_follow, **values),
        status_code=status_code,
    )
    if cookie:
        response.delete_cookie(FLASH_COOKIE, path="/")
    if follow:
        response.delete_cookie(FLASH_FOLLOW_COOKIE, path="/")
    return response


def redirect(url: str, message: str | None = None, *, follow: str | None = None) -> RedirectResponse:
    """A 303 to ``url`` (after a POST), carrying a one-time message for the next page; ``follow`` is the
    live-state key of the run the message speaks of, while it is queued."""
    response = RedirectResponse(url, status_code=SEE_OTHER)
    if message:
        response.set_cookie(FLASH_COOKIE, quote(message), max_age=60, path="/", httponly=True, samesite="lax")
    if message and follow:
        response.set_cookie(
            FLASH_FOLLOW_COOKIE, quote(follow), max_age=60, path="/", httponly=True, samesite="lax"
        )
    return response
