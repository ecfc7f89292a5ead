"""Masking secrets in task logs and rendered template fields."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, SecretStr

from tradewind.config.settings import Settings
from tradewind.core.redaction import MASK, is_sensitive_name, redact, url_secrets

__all__ = [
    "MASK",
    "SecretsMasker",
    "connection_secrets",
    "is_sensitive_name",
    "masker_for_environment",
    "settings_secrets",
]

#: Shorter values would mask ordinary words everywhere.
MIN_SECRET_LENGTH = 4


SETTINGS_ENV_PREFIX = "TRADEWIND__"
#: Environment variables that define connections (their URI form's password is masked as any URL's is).
CONNECTION_ENV_PREFIXES = ("TRADEWIND_CONN_", "AIRFLOW_CONN_")
#: Values of variables whose names only look secret (TOKENIZERS_PARALLELISM=false): never worth masking.
_PLAIN_VALUES = frozenset({"true", "false", "yes", "no", "none", "null", "on", "off"})


class SecretsMasker:
    """Known secret values, replaced by ``***`` wherever they appear. Safe to use from several threads.

    The pattern is compiled at the first redaction after a secret was added, not at each addition: a try's
    masker learns dozens of values before its first log line (compiling the alternation each time cost
    several milliseconds of every try)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        #: Secrets were added since ``_pattern`` was compiled.
        self._stale = False
        for secret in secrets:
            self.add(secret)

    def copy(self) -> SecretsMasker:
        """A masker knowing what this one knows, its compiled pattern included."""
        twin = SecretsMasker()
        with self._lock:
            twin._secrets = set(self._secrets)
            twin._pattern, twin._stale = self._pattern, self._stale
        return twin

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
            if secret not in self._secrets:
                self._secrets.add(secret)
                self._stale = True

    def redact_text(self, text: str) -> str:
        pattern = self._compiled() if self._stale else self._pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._stale:
                # Longest first, so a secret containing another is masked whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None
                self._stale = False
            return self._pattern

    def redact(self, value: Any, name: str | None = None) -> Any:
        """A copy of ``value`` with secrets masked; everything under a sensitive ``name`` is masked whole."""
        return self._redact_known(redact(value, name))

    def _redact_known(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {k: self._redact_known(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_known(v) for v in value]
        return value


def masker_for_environment(settings: Settings | None = None) -> SecretsMasker:
    """A masker knowing the secrets there are before the task runs: values of environment variables named
    like secrets (``TRADEWIND_VAR_DB_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``), passwords of URLs in the
    environment (``TRADEWIND__DATABASE__URL``), and every secret of ``settings``."""
    global _known_environment
    environ = dict(os.environ)
    known = _known_environment
    if known is not None and known[0] is settings and _holds(environ, known[1]):
        # The environment it was built for, maybe with variables added since (a try adds one or two).
        masker = known[2].copy()
        for name in environ.keys() - known[1].keys():
            _add_named(masker, name, environ[name])
        return masker
    masker = SecretsMasker()
    for name, value in environ.items():
        _add_named(masker, name, value)
    if settings is not None:
        masker.add(settings_secrets(settings))
    masker.redact_text("")  # compiled once, here, for every copy
    _known_environment = (settings, environ, masker)
    return masker.copy()


def _holds(environ: dict[str, str], known: dict[str, str]) -> bool:
    """Whether ``environ`` has every variable of ``known``, with the same value."""
    return len(environ) >= len(known) and all(environ.get(name) == value for name, value in known.items())


#: The settings and environment ``masker_for_environment`` last read, and the masker it built: a warm parent
#: builds it once and every try forked from it copies it (walking ~50 variables, and compiling the pattern,
#: cost a few milliseconds of each try).
_known_environment: tuple[Settings | None, dict[str, str], SecretsMasker] | None = None


#: The last settings object ``settings_secrets`` read, and what it found.
_known_settings: tuple[Settings, list[str]] | None = None


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret of ``settings`` (its SecretStr values and the passwords of its URLs). Remembered for the
    same object: a warm parent reads them once and every try forked from it starts knowing them (walking
    every section cost a few milliseconds of each try)."""
    global _known_settings
    known = _known_settings
    if known is None or known[0] is not settings:
        found: list[str] = []
        _add_settings(found, settings)
        found.extend(url_secrets(settings.database_url))
        known = _known_settings = (settings, found)
    return known[1]


def connection_secrets(fields: Mapping[str, Any]) -> list[str]:
    """The secret values of a connection's fields: its password (also percent-encoded, as a URI shows it)
    and every value under a sensitive key of its extra."""
    found: list[str] = []
    password = fields.get("password")
    if isinstance(password, str) and password:
        found.extend({password, quote(password, safe="")})
    extra = fields.get("extra")
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = None
    found.extend(_sensitive_values(extra))
    return found


def _sensitive_values(value: Any, sensitive: bool = False) -> list[str]:
    if isinstance(value, Mapping):
        return [
            s for k, v in value.items() for s in _sensitive_values(v, sensitive or is_sensitive_name(str(k)))
        ]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _sensitive_values(v, sensitive)]
    return [value] if sensitive and isinstance(value, str) else []


def _add_named(masker: SecretsMasker, name: str, value: str) -> None:
    if (
        ":" in value
    ):  # else no URL: no scheme, no password (urlsplit of every variable cost more than the rest)
        masker.add(url_secrets(value))
    if name.upper().startswith(CONNECTION_ENV_PREFIXES) and value.lstrip().startswith("{"):
        with suppress(ValueError):
            fields = json.loads(value)
            if isinstance(fields, dict):
                masker.add(connection_secrets(fields))
    # Tradewind's own settings say by their type what is secret (``_add_settings``); their names do not
    # (TRADEWIND__KUBERNETES__SERVICE_ACCOUNT_NAME=default must not mask "default" everywhere).
    if name.upper().startswith(SETTINGS_ENV_PREFIX) or not is_sensitive_name(name):
        return
    if value.strip().lower() not in _PLAIN_VALUES and not value.isdigit():
        masker.add(value)


def _add_settings(found: list[str], section: BaseModel) -> None:
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            found.append(secret)
            found.extend(url_secrets(secret))  # a URL's password may be printed without the rest
        elif isinstance(value, BaseModel):
            _add_settings(found, value)
        elif isinstance(value, str) and ":" in value:
            found.extend(url_secrets(value))
