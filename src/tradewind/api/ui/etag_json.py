"""JSON responses with a strong ETag over their exact bytes, answered 304 when the client already has them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.responses import Response

from tradewind.api.errors import NOT_MODIFIED

#: The browser must ask every time (pages send If-None-Match themselves); nothing is kept by proxies.
NO_CACHE = "private, no-cache"


def encode(body: Any) -> tuple[bytes, str]:
    """The response body and its strong ETag (a digest of exactly those bytes)."""
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def etag_json(body: Any, if_none_match: str | None) -> Response:
    data, etag = encode(body)
    headers = {"ETag": etag, "Cache-Control": NO_CACHE}
    if etag_matches(if_none_match, etag):
        return Response(status_code=NOT_MODIFIED, headers=headers)
    return Response(data, media_type="application/json", headers=headers)
