"""Bounded integer types for every int path, query and body parameter of the API (v1, v2 and the UI): a value
past the database's signed 64-bit integers is refused as a 400 naming the field, never an overflow in the
driver."""

from __future__ import annotations

from typing import Annotated, Any

import annotated_types as at
from fastapi import Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: The error type of a number past 64 bits: api/errors.py answers it with 400 (other constraints: 422).
OUT_OF_RANGE = "int64_range"
MAX_PAGE_LIMIT = 1000
DEFAULT_PAGE_LIMIT = 100
#: UI pages show at most this many rows; page numbers stay small enough that their offset fits 64 bits.
MAX_PAGE = INT64_MAX // MAX_PAGE_LIMIT


def _refuse_past_int64(value: Any) -> Any:
    """Runs before parsing: query and path values arrive as text, JSON bodies as Python ints."""
    number = value
    if isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            return value  # not a number: the int validator reports it
    if isinstance(number, int) and not isinstance(number, bool) and not INT64_MIN <= number <= INT64_MAX:
        raise PydanticCustomError(
            OUT_OF_RANGE, "must be between {min} and {max}", {"min": INT64_MIN, "max": INT64_MAX}
        )
    return value


_fits = BeforeValidator(_refuse_past_int64)

# The validator comes last so it runs first; the bounds before it show as minimum/maximum in the OpenAPI.
Int64 = Annotated[int, at.Ge(INT64_MIN), at.Le(INT64_MAX), _fits]
NonNegativeInt = Annotated[int, at.Ge(0), at.Le(INT64_MAX), _fits]
PositiveInt = Annotated[int, at.Ge(1), at.Le(INT64_MAX), _fits]
#: -1 for an unmapped task, else the index of the mapped instance.
MapIndex = Annotated[int, at.Ge(-1), at.Le(INT64_MAX), _fits]

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_LIMIT, description="items per page"), _fits]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="items to skip"), _fits]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1"), _fits]
