"""Shared API shapes: the error body and pagination parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

MAX_PAGE_LIMIT = 1000
DEFAULT_PAGE_LIMIT = 100


class Problem(BaseModel):
    """Every error response."""

    title: str
    status: int
    detail: str


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]

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
