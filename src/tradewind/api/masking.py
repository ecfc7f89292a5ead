"""Hiding secret-looking values (variables named like passwords, tokens, keys) in the UI and the API."""

from __future__ import annotations

import json

from tradewind.store.audit import MASK, looks_secret, mask_secrets


def shown_value(key: str, value: str) -> tuple[str, bool]:
    """The value to show for a variable, and whether anything was hidden. A JSON object has its
    secret-looking fields hidden one by one."""
    if looks_secret(key):
        return MASK, True
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value, False
        if isinstance(parsed, dict):
            masked = mask_secrets(parsed)
            if masked != parsed:
                return json.dumps(masked), True
    return value, False
