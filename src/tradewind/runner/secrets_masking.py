"""Masking secrets in task logs and rendered template fields."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from tradewind.sdk.variable import ENV_PREFIX

MASK = "***"
#: Names (of variables, dict keys, env vars) whose values are secrets, matched as substrings, lower case.
SENSITIVE_NAME_PARTS = (
    "access_token",
    "api_key",
    "apikey",
    "authorization",
    "passphrase",
    "passwd",
    "password",
    "private_key",
    "secret",
    "token",
    "credential",
)
#: Shorter values would mask ordinary words everywhere.
MIN_SECRET_LENGTH = 4


def is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SENSITIVE_NAME_PARTS)


class SecretsMasker:
    """Known secret values, replaced by ``***`` wherever they appear. Safe to use from several threads."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: object) -> None:
        """Remember a secret value (strings, and each string inside a dict or list)."""
        if isinstance(secret, Mapping):
            for value in secret.values():
                self.add(value)
            return
        if isinstance(secret, list | tuple):
            for value in secret:
                self.add(value)
            return
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            # Longest first, so a secret containing another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def redact_text(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def redact(self, value: Any, name: str | None = None) -> Any:
        """A copy of ``value`` with secrets masked; everything under a sensitive ``name`` is masked whole."""
        if name is not None and is_sensitive_name(name) and value not in (None, ""):
            return MASK
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {k: self.redact(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(v) for v in value]
        return value


def masker_for_environment() -> SecretsMasker:
    """A masker knowing the secrets set before the task runs: TRADEWIND_VAR_* with sensitive names."""
    masker = SecretsMasker()
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIX) and is_sensitive_name(name[len(ENV_PREFIX) :]):
            masker.add(value)
    return masker
