"""The one rule for what is secret: names that denote secrets, and redacting them out of structures, JSON
text and URLs. Every output (audit log, UI, REST API, CLI, task logs, ``config show``) uses it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

MASK = "***"
#: A name is sensitive when its lower-cased form contains one of these (``db_passwords``, ``mysecrets``,
#: ``X-Auth-Token``, ``ssh_key``), as Airflow matches its sensitive field names.
SENSITIVE_WORDS = (
    "access_key",
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "credential",
    "keyfile_dict",
    "passphrase",
    "passwd",
    "password",
    "private_key",
    "secret",
    "service_account",
    "ssh_key",
    "token",
)


def is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def redact(value: Any, name: str | None = None) -> Any:
    """A copy of ``value`` in which everything under a sensitive name (a dict key, or ``name`` itself) is
    ``***``, through nested dicts and lists, whatever the top level is."""
    if name is not None and is_sensitive_name(name) and value not in (None, ""):
        return MASK
    if isinstance(value, Mapping):
        return {key: redact(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_json_text(text: str, name: str | None = None) -> tuple[str, bool]:
    """JSON text (or any text) with its secret-looking fields hidden, and whether anything was hidden.
    Text that is not a JSON object or array is returned as it is, unless ``name`` is sensitive."""
    if name is not None and is_sensitive_name(name) and text:
        return MASK, True
    if not text.lstrip().startswith(("{", "[")):
        return text, False
    try:
        parsed = json.loads(text)
    except ValueError:
        return text, False
    masked = redact(parsed)
    if masked == parsed:
        return text, False
    return json.dumps(masked), True


def mask_url(url: str) -> str:
    """The URL with its password and the values of sensitive query parameters (``?sslpassword=``) shown
    as ``***``, the rest as written; text that is not a URL is returned unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme:
        return url
    userinfo, at, _hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.partition(":")[0]
        url = url.replace(f"{userinfo}@", f"{user}:{MASK}@", 1)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(is_sensitive_name(key) for key, _value in pairs):
        masked = urlencode(
            [(key, MASK if is_sensitive_name(key) else value) for key, value in pairs], safe="*"
        )
        url = url.replace(f"?{parts.query}", f"?{masked}", 1)
    return url


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL (its password, sensitive query values), for a value masker to know."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if not parts.scheme:
        return []
    found: list[str] = []
    if parts.password:
        found.extend({parts.password, unquote(parts.password)})
    found.extend(value for key, value in parse_qsl(parts.query) if is_sensitive_name(key) and value)
    return found
