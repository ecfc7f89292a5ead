"""The XCom list page: every XCom of every DAG, filtered by DAG, run, task and key, values masked as the
REST API masks them."""

from __future__ import annotations

import json
import math

from fastapi import APIRouter, Request
from starlette.responses import Response

from tradewind.api.dependencies import DbSession, Viewer
from tradewind.api.rest.schemas.bounds import Page
from tradewind.api.ui.rendering import render
from tradewind.core.redaction import redact
from tradewind.store import xcom

router = APIRouter(include_in_schema=False)
XCOM_PAGE = 100
#: Longer values are cut on the list (the task try page shows them whole).
SHOWN_CHARS = 300


def shown_value(text: str, key: str) -> tuple[str, bool]:
    """The value as the list shows it: secret-looking keys and nested fields masked, long values cut."""
    original = json.loads(text)
    value = redact(original, key)
    shown = json.dumps(value, ensure_ascii=False, default=str)
    masked = bool(value != original)
    return (shown if len(shown) <= SHOWN_CHARS else shown[:SHOWN_CHARS] + " …"), masked


@router.get("/xcoms")
def xcom_list(
    request: Request,
    session: DbSession,
    _: Viewer,
    page: Page = 1,
    dag_id: str = "",
    run_id: str = "",
    task_id: str = "",
    key: str = "",
) -> Response:
    filters = {
        "dag_id": dag_id.strip(),
        "run_id": run_id.strip(),
        "task_id": task_id.strip(),
        "key": key.strip(),
    }
    rows, total = xcom.search_xcoms(
        session=session,
        dag_id=filters["dag_id"] or None,
        run_id=filters["run_id"] or None,
        task_id=filters["task_id"] or None,
        key=filters["key"] or None,
        limit=XCOM_PAGE,
        offset=(page - 1) * XCOM_PAGE,
    )
    entries = []
    for row in rows:
        value, masked = shown_value(row.value, row.key)
        entries.append({"row": row, "value": value, "masked": masked})
    return render(
        request,
        "xcoms.html",
        entries=entries,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / XCOM_PAGE)),
        filters=filters,
    )
