"""The Configuration page (admin only): the webserver's effective settings, every secret masked as
`tradewind config show` masks them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tradewind.api.dependencies import Admin, Ctx
from tradewind.api.ui.rendering import render
from tradewind.config.effective import effective_settings


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


router = APIRouter(include_in_schema=False)


@router.get("/configuration")
def configuration(request: Request, ctx: Ctx, _: Admin) -> Response:
    data = effective_settings(ctx.settings)
    sections = {
        name: [(key, _shown(value)) for key, value in values.items()]
        for name, values in data.items()
        if isinstance(values, dict)
    }
    top = [(key, _shown(value)) for key, value in data.items() if not isinstance(value, dict)]
    return render(request, "configuration.html", sections=sections, top=top)
