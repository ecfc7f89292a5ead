"""Operator extra links: a named URL to an outside system, computed for each task try (Airflow's meaning)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar


class BaseOperatorLink(ABC):
    """A link shown on a task instance's page: ``name`` labels it, ``get_link`` computes the URL.

    Give it to an operator class as ``operator_extra_links = (MyLink(),)``, or register it through a
    plugin (``operator_extra_links`` with ``operators = [...]``, or ``global_operator_extra_links`` for every
    task). The runner calls ``get_link`` once the try has run and stores the URL as an XCom under
    ``xcom_key``; the UI and the API read it from there.
    """

    #: The operator classes a plugin's link applies to (unused for links an operator declares itself).
    operators: ClassVar[list[type]] = []

    @property
    @abstractmethod
    def name(self) -> str:
        """The label of the link."""

    @property
    def xcom_key(self) -> str:
        """Where the URL is stored: ``_link_<class name>`` unless overridden."""
        return f"_link_{type(self).__name__}"

    @abstractmethod
    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """The URL for this task try (``ti_key`` has dag_id, run_id, task_id, map_index, try_number)."""
