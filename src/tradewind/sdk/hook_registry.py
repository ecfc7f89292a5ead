"""Which hook class serves which ``conn_type``: filled as ``BaseHook`` subclasses naming one are defined."""

from __future__ import annotations

from typing import Any

from tradewind.sdk.errors import NotFoundError

_HOOKS: dict[str, type[Any]] = {}


def register_hook_class(conn_type: str, hook_class: type[Any]) -> None:
    _HOOKS[conn_type] = hook_class


def hook_class_for(conn_type: str | None, *, conn_id: str | None) -> type[Any]:
    hook_class = _HOOKS.get(conn_type or "")
    if hook_class is None:
        raise NotFoundError(
            f"connection {conn_id!r}: no hook is known for conn_type {conn_type!r} "
            f"(known: {sorted(_HOOKS) or 'none'})",
            kind="hook",
            ident=conn_type,
        )
    return hook_class
