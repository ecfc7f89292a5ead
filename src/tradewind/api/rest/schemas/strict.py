"""Request bodies of the REST API: ``RequestBody`` models are strict (a bool must be a JSON bool, an int a
JSON int, not a bool or a string), refuse unknown fields unless they say otherwise, and refuse NUL
characters in their text fields (PostgreSQL can neither store nor compare them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Strict, field_validator
from pydantic_core import PydanticCustomError

#: The error type of text holding a NUL character: api/errors.py answers it with 400.
NUL_CHARACTER = "nul_character"

#: A date-time in a strict body: JSON has no date type, so the ISO 8601 string is parsed.
JsonDatetime = Annotated[datetime, Strict(False)]


def refuse_nul(value: Any) -> Any:
    texts = value if isinstance(value, list | tuple) else [value]
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        raise PydanticCustomError(NUL_CHARACTER, "must not contain NUL characters")
    return value


class RequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
