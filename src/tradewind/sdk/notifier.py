"""BaseNotifier: a callback object (``on_failure_callback=SmtpNotifier(...)``) whose template fields are rendered
with the callback's context before it sends anything (Airflow's ``BaseNotifier``).

A notifier never changes the outcome of what it reports on: if ``notify`` raises, the failure is logged (in
the try's or the DAG callback's log) with its reason, and the call returns.
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tradewind.sdk import templating

if TYPE_CHECKING:
    from jinja2 import Environment

#: The names Airflow 2 gave the positional arguments of an ``sla_miss_callback``.
SLA_MISS_ARGUMENTS = ("dag", "task_list", "blocking_task_list", "slas", "blocking_tis")


class BaseNotifier(ABC):
    """Subclass it, name the attributes to render in ``template_fields`` and implement ``notify(context)``."""

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()

    def __init__(self, **_: Any) -> None:
        self.log = logging.getLogger(f"{type(self).__module__}.{type(self).__name__}")

    @abstractmethod
    def notify(self, context: Mapping[str, Any]) -> None:
        """Send the notification; the template fields are rendered by then."""

    def get_template_env(self, dag: Any = None) -> Environment:
        """The DAG's Jinja environment (its macros, filters, search path) when there is a DAG, else the default."""
        get_env = getattr(dag, "get_template_env", None)
        return get_env() if callable(get_env) else templating.default_environment()

    def render_template_fields(
        self, context: Mapping[str, Any], jinja_env: Environment | None = None
    ) -> None:
        env = jinja_env or self.get_template_env(context.get("dag"))
        seen: set[int] = {id(self)}
        for name in self.template_fields:
            value = getattr(self, name)
            setattr(self, name, templating.render_value(value, context, env, self.template_ext, seen))

    def __call__(self, *args: Any) -> None:
        """Called with the callback's context (Airflow 2's ``sla_miss_callback`` positional arguments are
        accepted too). Renders a copy, so the notifier given in the DAG file stays a template."""
        context: Mapping[str, Any]
        if len(args) == 1 and isinstance(args[0], Mapping):
            context = args[0]
        else:
            context = dict(zip(SLA_MISS_ARGUMENTS, args, strict=False))
        label = type(self).__name__
        try:
            rendered = copy.copy(self)
            rendered.render_template_fields(context)
            rendered.notify(context)
        except Exception as exc:  # a notification's failure is reported, never turned into the task's
            self.log.error("%s failed to send its notification: %s: %s", label, type(exc).__name__, exc,
                           exc_info=exc)  # fmt: skip
