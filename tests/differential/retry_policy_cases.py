"""Retry policies and the exceptions to ask them about, as JSON data both sides build from.

A rule's exceptions are dotted paths; ``{"class": path}`` means the class object itself is given.
"""

from __future__ import annotations

from typing import Any

API_POLICY: dict[str, Any] = {
    "rules": [
        {"exception": "builtins.ConnectionResetError", "action": "fail", "reason": "reset"},
        {"exception": [{"class": "builtins.ConnectionError"}, "builtins.TimeoutError"], "retry_delay": 30},
        {
            "exception": "builtins.LookupError",
            "action": "retry",
            "match_subclasses": False,
            "reason": "exact",
        },
        {"exception": {"class": "json.decoder.JSONDecodeError"}, "action": "default", "reason": "json"},
        {"exception": "no_such_module.errors.Boom", "action": "fail"},
    ],
}

CASES: dict[str, dict[str, Any]] = {
    "api": API_POLICY,
    "fail_by_default": {
        "rules": [{"exception": "builtins.ValueError", "action": "retry", "retry_delay": 5, "reason": "v"}],
        "default": "fail",
    },
    "first_rule_wins": {
        "rules": [
            {"exception": "builtins.OSError", "action": "fail", "reason": "os"},
            {"exception": "builtins.ConnectionError", "action": "retry", "reason": "conn"},
        ],
    },
}

EXCEPTIONS = [
    "builtins.ConnectionResetError",
    "builtins.ConnectionRefusedError",
    "builtins.ConnectionError",
    "builtins.TimeoutError",
    "builtins.LookupError",
    "builtins.KeyError",
    "builtins.ValueError",
    "json.decoder.JSONDecodeError",
    "builtins.RuntimeError",
]
