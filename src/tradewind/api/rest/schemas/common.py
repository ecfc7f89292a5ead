"""Shared API shapes: the error body and pagination parameters."""

from __future__ import annotations

from pydantic import BaseModel

from tradewind.api.rest.schemas.bounds import DEFAULT_PAGE_LIMIT as DEFAULT_PAGE_LIMIT
from tradewind.api.rest.schemas.bounds import MAX_PAGE_LIMIT as MAX_PAGE_LIMIT
from tradewind.api.rest.schemas.bounds import Limit as Limit
from tradewind.api.rest.schemas.bounds import Offset as Offset


class Problem(BaseModel):
    """Every error response."""

    title: str
    status: int
    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "description": text}
    for status, text in (
        (400, "Bad request"),
        (401, "Not authenticated"),
        (403, "Not allowed for this role, or a missing CSRF token"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Invalid input"),
    )
}
