"""``BaseHook``: what every hook shares, mainly finding its connection (Airflow's names and meaning).

A subclass that sets ``conn_type`` is registered for it, so ``Connection.get_hook()`` and
``BaseHook.get_hook(conn_id)`` build it from a connection of that type.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from tradewind.sdk.connection import Connection
from tradewind.sdk.hook_registry import register_hook_class


class BaseHook:
    """Subclass it with ``conn_name_attr`` (the keyword naming the connection id), ``default_conn_name``,
    ``conn_type`` and ``hook_name``; read the connection with ``self.get_connection(self.<conn_name_attr>)``."""

    conn_name_attr: ClassVar[str] = "conn_id"
    default_conn_name: ClassVar[str] = "default_conn_id"
    conn_type: ClassVar[str] = ""
    hook_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("conn_type"):
            register_hook_class(cls.conn_type, cls)

    def __init__(self, logger_name: str | None = None) -> None:
        self.log = logging.getLogger(logger_name or f"{type(self).__module__}.{type(self).__name__}")

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        """The connection ``conn_id`` (environment, then the task runtime); NotFoundError naming it if none."""
        return Connection.get(conn_id)

    @classmethod
    def get_hook(cls, conn_id: str, hook_params: dict[str, Any] | None = None) -> Any:
        """The hook for ``conn_id``'s ``conn_type``, built for that connection."""
        return cls.get_connection(conn_id).get_hook(hook_params=hook_params)

    def get_conn(self) -> Any:
        """The client of the external system; each hook defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_conn()")

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of this hook's connection form (the UI reads it later)."""
        return {}

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Which standard form fields to hide or relabel for this hook's connections (the UI reads it later)."""
        return {}
