"""The OpenAPI document at /api/v1/openapi.json and a docs page built from it (no CDN assets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from tradewind.api.dependencies import Viewer
from tradewind.api.ui.rendering import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "patch", "put", "delete")


@router.get("/openapi.json")
def openapi_document(request: Request, _: Viewer) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/ui")
def docs_page(request: Request, _: Viewer) -> Response:
    schema: dict[str, Any] = request.app.openapi()
    sections: dict[str, list[dict[str, Any]]] = {}
    for path, operations in schema.get("paths", {}).items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["Other"])[0]
            sections.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path if path.startswith(("/api/", "/auth/")) else "/api/v1" + path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": _ref_name(operation.get("requestBody", {})),
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return render(request, "api_docs.html", sections=sections, info=schema.get("info", {}))


def _ref_name(body: dict[str, Any]) -> str | None:
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
