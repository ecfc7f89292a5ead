"""Jinja templating of operator fields: one environment per DAG and the recursive rendering of values.

Jinja2 is imported only when an environment is built, so importing a DAG file does not pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tradewind.sdk.errors import TaskControlSignal, TemplateError
from tradewind.sdk.legacy_context import TaskContext, template_context
from tradewind.sdk.resolvable import ResolveMixin

if TYPE_CHECKING:
    from jinja2 import Environment


def _ds(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _ds_nodash(value: datetime) -> str:
    return value.strftime("%Y%m%d")


def _ts(value: datetime) -> str:
    return value.isoformat()


def _ts_nodash(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _ts_nodash_with_tz(value: datetime) -> str:
    return value.isoformat().replace("-", "").replace(":", "")


FILTERS: dict[str, Callable[[datetime], str]] = {
    "ds": _ds,
    "ds_nodash": _ds_nodash,
    "ts": _ts,
    "ts_nodash": _ts_nodash,
    "ts_nodash_with_tz": _ts_nodash_with_tz,
}


def build_environment(
    *,
    searchpath: Sequence[str] = (),
    macros: Mapping[str, Any] | None = None,
    filters: Mapping[str, Callable[..., Any]] | None = None,
    native: bool = False,
) -> Environment:
    """An environment like Airflow's: StrictUndefined, the ``do`` extension, date filters, user additions."""
    import jinja2
    import jinja2.nativetypes
    import jinja2.sandbox

    options: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(list(searchpath)),
        "undefined": jinja2.StrictUndefined,
        "extensions": ["jinja2.ext.do"],
        "cache_size": 0,
    }
    env: Environment
    if native:
        env = jinja2.nativetypes.NativeEnvironment(**options)
    else:
        env = jinja2.sandbox.SandboxedEnvironment(**options)
    env.filters.update(FILTERS)
    if macros:
        env.globals.update(macros)
    if filters:
        env.filters.update(filters)
    return env


@functools.cache
def default_environment() -> Environment:
    """For tasks that belong to no DAG (templates are then strings, not files)."""
    return build_environment()


def render_value(
    value: Any, context: Mapping[str, Any], env: Environment, template_ext: Sequence[str], seen: set[int]
) -> Any:
    """Render strings; resolve XComArgs and DAG params; recurse into containers and templated objects."""
    if isinstance(value, str):
        if template_ext and value.endswith(tuple(template_ext)):
            template = env.get_template(value)
            legacy_names = isinstance(context, TaskContext) and template.filename
            source = _read(template.filename) if legacy_names and template.filename else ""
            return template.render(template_context(context, source, env))
        if not _is_native(env) and "{{" not in value and "{%" not in value and "{#" not in value:
            return value
        return env.from_string(value).render(template_context(context, value, env))
    if isinstance(value, ResolveMixin):
        return value.resolve(context)
    if isinstance(value, tuple):
        items = [render_value(v, context, env, template_ext, seen) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [render_value(v, context, env, template_ext, seen) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, context, env, template_ext, seen) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return type(value)(render_value(v, context, env, template_ext, seen) for v in value)
    nested_fields = getattr(value, "template_fields", None)
    if nested_fields and not isinstance(value, type) and id(value) not in seen:
        seen.add(id(value))
        for field in nested_fields:
            setattr(value, field, render_value(getattr(value, field), context, env, template_ext, seen))
    return value


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _is_native(env: Environment) -> bool:
    # Native rendering turns even a plain "123" into 123, as in Airflow, so every string goes through it.
    from jinja2.nativetypes import NativeEnvironment

    return isinstance(env, NativeEnvironment)


def render_template_fields(op: Any, context: Mapping[str, Any], env: Environment) -> None:
    """Render each of ``op.template_fields`` in place; a failure names the task and the field."""
    seen: set[int] = {id(op)}
    for field in op.template_fields:
        try:
            value = getattr(op, field)
        except AttributeError as exc:
            raise TemplateError(
                f"task {op.task_id!r}: template field {field!r} is not an attribute of {type(op).__name__}",
                task_id=op.task_id,
                field=field,
            ) from exc
        try:
            rendered = render_value(value, context, env, op.template_ext, seen)
        except TaskControlSignal:  # e.g. a skip raised by an XComArg.map() function: the task's outcome
            raise
        except Exception as exc:
            raise TemplateError(
                f"task {op.task_id!r}: cannot render template field {field!r}: {_describe(exc)}",
                task_id=op.task_id,
                field=field,
            ) from exc
        setattr(op, field, rendered)


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    lineno = getattr(exc, "lineno", None)
    where = f" (template line {lineno})" if lineno and name == "TemplateSyntaxError" else ""
    return f"{name}: {exc}{where}"
