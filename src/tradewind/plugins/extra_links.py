"""Which extra links a task has (its operator's own, plugins' per-operator and global ones), and storing
each link's URL for a try: the runner computes them, the UI and the API read the stored URLs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tradewind.plugins.registry import loaded_plugins
from tradewind.sdk.mapped import MappedOperator
from tradewind.sdk.operator_links import BaseOperatorLink


def _operator_class(task: Any) -> type:
    return task.operator_class if isinstance(task, MappedOperator) else type(task)


def _applies_to(link: BaseOperatorLink, cls: type) -> bool:
    return any(
        op is cls or (getattr(op, "__name__", None) == cls.__name__ and op.__module__ == cls.__module__)
        for op in link.operators
    )


def _own_links(task: Any) -> list[Any]:
    """The operator's ``operator_extra_links`` (a list, a tuple or, on an instance, a property's value)."""
    holder = task.operator_class if isinstance(task, MappedOperator) else task
    try:
        links = getattr(holder, "operator_extra_links", None)
        return [] if links is None or isinstance(links, property) else list(links)
    except Exception:  # an operator's own property may fail outside a try; it has no links then
        return []


def links_for(task: Any) -> list[BaseOperatorLink]:
    """The links of ``task`` by name: the operator's own, then plugins' for its class, then global ones."""
    cls = _operator_class(task)
    found: dict[str, BaseOperatorLink] = {}
    for link in _own_links(task):
        found.setdefault(str(link.name), link)
    for plugin in loaded_plugins():
        for link in plugin.operator_extra_links:
            if _applies_to(link, cls):
                found.setdefault(link.name, link)
    for plugin in loaded_plugins():
        for link in plugin.global_operator_extra_links:
            found.setdefault(link.name, link)
    return list(found.values())


def link_keys(task: Any) -> dict[str, str]:
    """Link name -> the XCom key its URL is stored under (what a serialized task records)."""
    return {link.name: link.xcom_key for link in links_for(task)}


def store_links(task: Any, ti_key: Any, push: Callable[[str, Any], None], *, log: logging.Logger) -> None:
    """Compute each link's URL for this try and store it; a link that fails is logged and left out."""
    for link in links_for(task):
        try:
            url = link.get_link(task, ti_key=ti_key)
            if url:
                push(link.xcom_key, str(url))
        except Exception as exc:  # a broken link must not change the try's outcome
            log.error(
                "extra link %r of task %r failed: %s: %s", link.name, task.task_id, type(exc).__name__, exc
            )
