"""Which hook class serves which ``conn_type``.

Two sources: the hooks shipped in ``tradewind.providers`` (named here as ``"module:Class"`` strings, imported only
when a connection of that type asks for its hook, so nothing heavy loads at import time), and any ``BaseHook``
subclass that names a ``conn_type`` (registered when its class is defined: a user's own hook, or a plugin's).
A class defined later wins over the built-in name for the same type.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from tradewind.sdk.errors import NotFoundError

#: conn_type -> "module:Class" of the hooks Tradewind ships; each provider adds its own line.
BUILTIN_HOOKS: dict[str, str] = {
    "postgres": "tradewind.providers.postgres.hooks.postgres:PostgresHook",
    "sqlite": "tradewind.providers.sqlite.hooks.sqlite:SqliteHook",
    "http": "tradewind.providers.http.hooks.http:HttpHook",
    "aws": "tradewind.providers.amazon.aws.hooks.s3:S3Hook",
    "smtp": "tradewind.providers.smtp.hooks.smtp:SmtpHook",
}

_HOOKS: dict[str, type[Any]] = {}


def register_hook_class(conn_type: str, hook_class: type[Any]) -> None:
    _HOOKS[conn_type] = hook_class


def known_conn_types() -> list[str]:
    """Every conn_type a hook is known for (built in or registered), sorted."""
    return sorted(set(BUILTIN_HOOKS) | set(_HOOKS))


def hook_class_for(conn_type: str | None, *, conn_id: str | None) -> type[Any]:
    key = conn_type or ""
    hook_class = _HOOKS.get(key)
    if hook_class is None and key in BUILTIN_HOOKS:
        module_name, _, attribute = BUILTIN_HOOKS[key].partition(":")
        hook_class = getattr(import_module(module_name), attribute)
    if hook_class is None:
        raise NotFoundError(
            f"connection {conn_id!r}: no hook is known for conn_type {conn_type!r} "
            f"(known: {known_conn_types() or 'none'})",
            kind="hook",
            ident=conn_type,
        )
    return hook_class
