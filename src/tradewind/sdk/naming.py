"""Rules for DAG, task and group ids, and Airflow's ``name__1`` suffixes for repeated TaskFlow calls."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from tradewind.sdk.errors import DagDefinitionError

ID_PATTERN = re.compile(r"^[\w.-]+$")
MAX_ID_LENGTH = 250


def validate_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise DagDefinitionError(f"invalid {what} {value!r}: use only letters, digits, '_', '-' and '.'")
    if len(value) > MAX_ID_LENGTH:
        raise DagDefinitionError(f"invalid {what} {value[:40]!r}...: longer than {MAX_ID_LENGTH} characters")
    return value


def unique_label(label: str, taken: Collection[str], full_id: Callable[[str], str]) -> str:
    """``label`` if its full id is free, else ``label__N`` with the next free N (``f``, ``f__1`` ...)."""
    if full_id(label) not in taken:
        return label
    core = re.split(r"__\d+$", label)[0]
    n = 1
    while full_id(f"{core}__{n}") in taken:
        n += 1
    return f"{core}__{n}"
