"""The connection form of the UI, shaped by the hook of its ``conn_type``.

A hook may give two class methods (Airflow's names):

- ``get_ui_field_behaviour()`` -> ``{"hidden_fields": [...], "relabeling": {field: label},
  "placeholders": {field: text}}`` for the standard fields (host, schema, login, password, port, extra,
  description);
- ``get_connection_form_widgets()`` -> ``{name: {"label": ..., "type": "string" | "password" | "integer" |
  "boolean", "description": ..., "placeholder": ...}}``: extra fields, each stored in ``extra`` under ``name``.

Secrets never go back to the browser: the password and password widgets are shown empty (empty keeps the stored
value), and ``extra`` is shown with its secret-looking values as ``***`` (a ``***`` sent back keeps the value).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tradewind.core.redaction import MASK, is_sensitive_name
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NotFoundError, ParamValidationError
from tradewind.sdk.hook_registry import hook_class_for
from tradewind.secrets.connection_view import check_conn_id, masked_extra, restore_masked

STANDARD_FIELDS = ("host", "schema", "login", "password", "port", "extra", "description")
WIDGET_TYPES = ("string", "password", "integer", "boolean")
#: Form inputs of a hook's widgets are named with this prefix, so they never clash with the standard ones.
WIDGET_PREFIX = "widget__"


@dataclass(frozen=True, slots=True)
class Widget:
    name: str
    label: str
    type: str = "string"
    description: str = ""
    placeholder: str = ""

    @property
    def input_name(self) -> str:
        return WIDGET_PREFIX + self.name


@dataclass(frozen=True, slots=True)
class FormSpec:
    conn_type: str
    hook_name: str = ""
    hidden: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)
    placeholders: Mapping[str, str] = field(default_factory=dict)
    widgets: tuple[Widget, ...] = ()

    def label(self, name: str) -> str:
        return self.labels.get(name, name.capitalize())

    @property
    def shown(self) -> list[str]:
        return [f for f in STANDARD_FIELDS if f not in self.hidden]


def form_spec(conn_type: str) -> FormSpec:
    """The form for ``conn_type``: the plain one when no hook is known (or it cannot be imported)."""
    try:
        hook_class = hook_class_for(conn_type, conn_id=None)
    except (NotFoundError, ImportError):
        return FormSpec(conn_type=conn_type)
    behaviour = _dict(getattr(hook_class, "get_ui_field_behaviour", dict)())
    widgets = _dict(getattr(hook_class, "get_connection_form_widgets", dict)())
    return FormSpec(
        conn_type=conn_type,
        hook_name=str(getattr(hook_class, "hook_name", "") or hook_class.__name__),
        hidden=frozenset(str(f) for f in behaviour.get("hidden_fields", ()) if f in STANDARD_FIELDS),
        labels={str(k): str(v) for k, v in _dict(behaviour.get("relabeling")).items()},
        placeholders={str(k): str(v) for k, v in _dict(behaviour.get("placeholders")).items()},
        widgets=tuple(_widget(str(name), _dict(spec)) for name, spec in widgets.items()),
    )


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _widget(name: str, spec: dict[str, Any]) -> Widget:
    kind = str(spec.get("type", "string"))
    return Widget(
        name=name,
        label=str(spec.get("label") or name),
        type=kind if kind in WIDGET_TYPES else "string",
        description=str(spec.get("description") or ""),
        placeholder=str(spec.get("placeholder") or ""),
    )


def form_values(spec: FormSpec, connection: Connection | None) -> dict[str, Any]:
    """What the form shows: every field but the password; extra masked and without the widgets' keys."""
    if connection is None:
        return {"extra": ""}
    extra = masked_extra(connection)
    values: dict[str, Any] = {
        "host": connection.host, "schema": connection.schema, "login": connection.login,
        "port": connection.port, "description": connection.description, "password": "",
        "has_password": bool(connection.password),
    }  # fmt: skip
    for widget in spec.widgets:
        value = extra.pop(widget.name, None)
        values[widget.input_name] = "" if secret_widget(widget) else value
        values[widget.input_name + "__set"] = value not in (None, "")
    values["extra"] = json.dumps(extra, indent=2) if extra else ""
    return values


def connection_from_form(
    spec: FormSpec, conn_id: str, form: Mapping[str, str], stored: Connection | None
) -> Connection:
    """The connection the submitted form describes; empty secrets and ``***`` keep what ``stored`` holds."""
    check_conn_id(conn_id.strip(), param="conn_id")
    text = {name: (form.get(name) or "").strip() for name in STANDARD_FIELDS}
    values: dict[str, Any] = {
        name: text[name] or None for name in STANDARD_FIELDS if name not in ("port", "extra")
    }
    values["port"] = _integer(text["port"], "port", conn_id) if text["port"] else None
    stored_extra = stored.extra_dejson if stored is not None else {}
    if "extra" in spec.hidden:
        extra = dict(stored_extra)
    else:
        extra = restore_masked(_extra(text["extra"], conn_id), stored_extra)
    for widget in spec.widgets:
        extra.pop(widget.name, None)
        raw = (form.get(widget.input_name) or "").strip()
        if secret_widget(widget) and raw in ("", MASK) and stored_extra.get(widget.name):
            extra[widget.name] = stored_extra[widget.name]
        elif widget.type == "boolean":
            extra[widget.name] = bool(raw)
        elif widget.type == "integer" and raw:
            extra[widget.name] = _integer(raw, widget.name, conn_id)
        elif raw:
            extra[widget.name] = raw
    if (not values["password"] or values["password"] == MASK) and stored is not None:
        values["password"] = stored.password
    for name in spec.hidden - {"extra"}:
        values[name] = getattr(stored, name) if stored is not None else None
    return Connection(conn_id=conn_id.strip(), conn_type=spec.conn_type, extra=extra or None, **values)


def _integer(text: str, name: str, conn_id: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ParamValidationError(
            f"connection {conn_id!r}: {name} must be a whole number", param=name
        ) from None


def _extra(text: str, conn_id: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        decoded = json.loads(text)
    except ValueError:
        raise ParamValidationError(
            f"connection {conn_id!r}: extra is not valid JSON", param="extra"
        ) from None
    if not isinstance(decoded, dict):
        raise ParamValidationError(f"connection {conn_id!r}: extra must be a JSON object", param="extra")
    return decoded


def secret_widget(widget: Widget) -> bool:
    return widget.type == "password" or is_sensitive_name(widget.name)
