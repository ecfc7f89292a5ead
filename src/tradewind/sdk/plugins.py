"""Plugins: an ``AirflowPlugin`` subclass in the plugins folder adds macros, timetables and extra links.

The loader (``tradewind.plugins``) imports every ``.py`` file of ``[core] plugins_folder`` once per process
and registers what each subclass lists. ``TradewindPlugin`` is the same class under Tradewind's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from tradewind.sdk.operator_links import BaseOperatorLink


class AirflowPlugin:
    """Subclass it with a ``name`` and the lists of what the plugin brings.

    Served: ``macros`` (functions, in templates as ``macros.<name>.<function>``), ``timetables``
    (Timetable subclasses a stored DAG can be rebuilt with), ``operator_extra_links`` (links for the operator
    classes each link lists in ``operators``) and ``global_operator_extra_links`` (for every task). The other
    attributes Airflow plugins may set (web views, listeners ...) are accepted and listed, not served.
    """

    name: ClassVar[str | None] = None
    #: The file the plugin was loaded from (set by the loader).
    source: ClassVar[str | None] = None
    macros: ClassVar[list[Callable[..., Any]]] = []
    timetables: ClassVar[list[type]] = []
    operator_extra_links: ClassVar[list[BaseOperatorLink]] = []
    global_operator_extra_links: ClassVar[list[BaseOperatorLink]] = []
    # Accepted so Airflow plugins load; not served by Tradewind.
    admin_views: ClassVar[list[Any]] = []
    flask_blueprints: ClassVar[list[Any]] = []
    fastapi_apps: ClassVar[list[Any]] = []
    fastapi_root_middlewares: ClassVar[list[Any]] = []
    external_views: ClassVar[list[Any]] = []
    react_apps: ClassVar[list[Any]] = []
    menu_links: ClassVar[list[Any]] = []
    appbuilder_views: ClassVar[list[Any]] = []
    appbuilder_menu_items: ClassVar[list[Any]] = []
    listeners: ClassVar[list[Any]] = []
    priority_weight_strategies: ClassVar[list[Any]] = []

    @classmethod
    def on_load(cls, *args: Any, **kwargs: Any) -> None:
        """Called once when the plugin is loaded in a process; override to prepare what it needs."""


TradewindPlugin = AirflowPlugin

#: Attributes a plugin may set that Tradewind accepts but does not serve (reported by `tradewind plugins`).
UNSERVED_ATTRIBUTES = (
    "admin_views", "flask_blueprints", "fastapi_apps", "fastapi_root_middlewares", "external_views",
    "react_apps", "menu_links", "appbuilder_views", "appbuilder_menu_items", "listeners",
    "priority_weight_strategies",
)  # fmt: skip
