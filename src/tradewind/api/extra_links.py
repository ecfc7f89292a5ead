"""A task instance's extra links: the names its serialized task lists, the URLs its runner stored as XComs."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedTask
from tradewind.store import xcom


def task_links(session: Session, task: SerializedTask, key: TaskInstanceKey) -> dict[str, str | None]:
    """Link name -> URL, sorted by name; None for a link with no URL (not run yet, or not http(s))."""
    links: dict[str, str | None] = {}
    for name, xcom_key in sorted(task.extra_links.items()):
        value = xcom.get_xcom(
            session=session,
            dag_id=key.dag_id,
            run_id=key.run_id,
            task_id=key.task_id,
            key=xcom_key,
            map_index=key.map_index,
        )
        links[name] = value if isinstance(value, str) and _is_web_url(value) else None
    return links


def _is_web_url(url: str) -> bool:
    # A link is user code's output: never serve javascript: or data: URLs to a browser.
    return urlsplit(url).scheme in ("http", "https")
