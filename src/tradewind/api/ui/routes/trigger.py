"""The trigger page: a form generated from the DAG's params (or raw JSON conf), validated before the run
is created."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from tradewind.actions import dag_actions
from tradewind.api.auth.authentication import require_op
from tradewind.api.dependencies import Ctx, DbSession, Op
from tradewind.api.errors import status_for
from tradewind.api.ui.rendering import redirect, render
from tradewind.api.ui.routes.dag import dag_header
from tradewind.core.run_inputs import MAX_CONF_DEPTH, check_conf_depth
from tradewind.core.serialized_dag import SerializedDag, SerializedParam
from tradewind.sdk.errors import ParamValidationError, RefusedInputError, TradewindError

router = APIRouter(include_in_schema=False)
FIELD_PREFIX = "param__"


def _base_type(schema: dict[str, Any]) -> tuple[str, bool]:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        nullable = "null" in kind
        rest = [k for k in kind if k != "null"]
        return (rest[0] if rest else "string"), nullable
    return str(kind), False


def param_fields(sdag: SerializedDag, values: dict[str, str] | None = None) -> list[dict[str, Any]]:
    fields = []
    for name, param in sdag.params.items():
        schema = param.schema_
        kind, nullable = _base_type(schema)
        if "enum" in schema:
            widget = "select"
        elif kind == "boolean":
            widget = "boolean"
        elif kind in ("integer", "number"):
            widget = "number"
        elif kind in ("array", "object"):
            widget = "json"
        else:
            widget = "text"
        fields.append(
            {
                "name": name,
                "input": FIELD_PREFIX + name,
                "widget": widget,
                "type": kind,
                "nullable": nullable,
                "required": not param.has_default,
                "description": param.description or schema.get("description"),
                "options": [json.dumps(v) if not isinstance(v, str) else v for v in schema.get("enum", [])],
                "value": (values or {}).get(name, _shown(param)),
                "step": "1" if kind == "integer" else "any",
            }
        )
    return fields


def _shown(param: SerializedParam) -> str:
    if not param.has_default or param.default is None:
        return ""
    if isinstance(param.default, str):
        return param.default
    if isinstance(param.default, bool):
        return "true" if param.default else "false"
    return json.dumps(param.default)


def _convert(name: str, raw: str, field: dict[str, Any]) -> tuple[bool, Any]:
    """(present, value) for one form field; an absent field falls back to the param's default."""
    kind = field["type"]
    if field["widget"] == "select":
        if raw == "" and field["nullable"]:
            return True, None
        if raw not in field["options"]:
            raise ParamValidationError(
                f"param {name!r}: choose one of {', '.join(field['options'])}", param=name
            )
        return True, raw if kind == "string" else json.loads(raw)
    if raw == "" and kind != "string":
        return (True, None) if field["nullable"] else (False, None)
    try:
        if kind == "integer":
            return True, int(raw)
        if kind == "number":
            return True, float(raw)
        if kind == "boolean":
            return True, raw == "true"
        if kind in ("array", "object"):
            return True, json.loads(raw)
    except (ValueError, RecursionError):
        raise ParamValidationError(f"param {name!r}: {raw!r} is not a valid {kind}", param=name) from None
    return True, raw


def conf_from_form(sdag: SerializedDag, form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The conf a trigger form describes, and the raw values to show again if it fails validation."""
    if form.get("mode") == "json":
        text = str(form.get("conf_json") or "").strip() or "{}"
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ParamValidationError(f"conf is not valid JSON: {exc}", param="conf") from None
        except RecursionError:
            raise RefusedInputError(
                f"conf_json is nested deeper than {MAX_CONF_DEPTH} levels", field="conf_json"
            ) from None
        if not isinstance(parsed, dict):
            raise ParamValidationError('conf must be a JSON object, like {"key": "value"}', param="conf")
        check_conf_depth(parsed, field="conf_json")
        return parsed, {}
    raw = {name: str(form.get(FIELD_PREFIX + name) or "") for name in sdag.params}
    conf: dict[str, Any] = {}
    for field in param_fields(sdag, raw):
        present, value = _convert(field["name"], raw[field["name"]], field)
        if present:
            conf[field["name"]] = value
    return conf, raw


def _page(
    request: Request,
    header: dict[str, Any],
    *,
    status: int = 200,
    error: str | None = None,
    raw: dict[str, str] | None = None,
    form: FormData | None = None,
) -> Response:
    sdag: SerializedDag = header["sdag"]
    defaults = {name: p.default for name, p in sdag.params.items() if p.has_default}
    return render(
        request,
        "trigger.html",
        status_code=status,
        tab="trigger",
        fields=param_fields(sdag, raw),
        error=error,
        mode=str(form.get("mode"))
        if form is not None and form.get("mode")
        else ("form" if sdag.params else "json"),
        conf_json=str(form.get("conf_json"))
        if form is not None and form.get("conf_json")
        else json.dumps(defaults, indent=2),
        run_id=str(form.get("run_id") or "") if form is not None else "",
        logical_date=str(form.get("logical_date") or "") if form is not None else "",
        **header,
    )


@router.get("/dags/{dag_id}/trigger")
def trigger_form(dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Op) -> Response:
    return _page(request, dag_header(session, ctx, dag_id))


@router.post("/dags/{dag_id}/trigger")
async def trigger(dag_id: str, request: Request, ctx: Ctx) -> Response:
    principal = await require_op(request)
    form = await request.form()
    header = await run_in_threadpool(_header, ctx, dag_id)
    raw: dict[str, str] | None = None
    try:
        conf, raw = conf_from_form(header["sdag"], form)
        logical = str(form.get("logical_date") or "").strip()
        logical_date = datetime.fromisoformat(logical) if logical else None
        run = await run_in_threadpool(
            lambda: dag_actions.trigger(
                ctx.write_factory,
                principal,
                dag_id=dag_id,
                conf=conf,
                run_id=str(form.get("run_id") or "").strip() or None,
                logical_date=logical_date,
                allowed_run_id_pattern=ctx.settings.scheduler.allowed_run_id_pattern,
            )
        )
    except ValueError as exc:
        return _page(request, header, status=422, error=f"logical date: {exc}", raw=raw, form=form)
    except TradewindError as exc:
        return _page(request, header, status=status_for(exc), error=str(exc), raw=raw, form=form)
    target = f"/dags/{quote(dag_id, safe='')}?run_id={quote(run.run_id, safe='')}"
    follow = json.dumps(["run", dag_id, run.run_id])
    return redirect(target, f"Triggered {dag_id}: run {run.run_id} is queued.", follow=follow)


def _header(ctx: Ctx, dag_id: str) -> dict[str, Any]:
    with ctx.read_factory() as session:
        return dag_header(session, ctx, dag_id)
