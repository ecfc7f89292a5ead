"""BaseTrigger and TriggerEvent: what a deferrable operator hands to the triggerer, and what it gets back.

A trigger is built twice: in the task (``self.defer(trigger=...)``), where only ``serialize`` is called, and
in the triggerer's child process, from the class path and keyword arguments ``serialize`` returned, where
``run`` is iterated on one asyncio loop shared with every other trigger. So ``run`` must never block: sleep
with ``await asyncio.sleep``, wait on I/O with async libraries (the triggerer names a trigger that blocks
its loop in the log).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import AsyncIterator
from typing import Any

#: ``next_method`` of a deferred try that is to fail when it resumes, and the errors it fails with (the
#: values Airflow uses).
FAIL_METHOD = "__fail__"
TIMEOUT_ERROR = "Trigger/execution timeout"
FAILURE_ERROR = "Trigger failure"


class TriggerEvent:
    """What a trigger yields when it fires; ``payload`` reaches the resumed task as ``event`` (JSON values,
    datetimes and timedeltas)."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"TriggerEvent<{self.payload!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TriggerEvent) and other.payload == self.payload

    def __hash__(self) -> int:
        return hash(repr(self.payload))


class BaseTrigger(abc.ABC):
    """Subclasses implement ``serialize`` (class path and the keyword arguments that rebuild the trigger)
    and ``async run`` (yield a TriggerEvent when the condition holds; the first event resumes the task)."""

    def __init__(self, **kwargs: Any) -> None:
        #: Set in the triggerer: the id of the stored trigger this object runs.
        self.trigger_id: int | None = None

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"{type(self).__module__}.{type(self).__qualname__}")

    @abc.abstractmethod
    def serialize(self) -> tuple[str, dict[str, Any]]:
        """``("package.module.ClassName", {keyword arguments})``: enough to build the trigger again."""

    @abc.abstractmethod
    def run(self) -> AsyncIterator[TriggerEvent]:
        """An async generator: ``async def run(self): ... yield TriggerEvent(payload)``."""

    async def cleanup(self) -> None:
        """Called when the trigger stops running (fired, cancelled, the triggerer stopping): release what
        ``run`` holds. Errors here are logged and ignored."""
        return None

    def __repr__(self) -> str:
        classpath, kwargs = self.serialize()
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return f"<{classpath} {args}>"


class BaseEventTrigger(BaseTrigger):
    """A trigger an asset watcher may run (``AssetWatcher(name, trigger)``): each event it yields records an
    asset event for the watched asset, and the triggerer starts it again to keep watching."""


def classpath_of(trigger_type: type[BaseTrigger]) -> str:
    return f"{trigger_type.__module__}.{trigger_type.__qualname__}"
