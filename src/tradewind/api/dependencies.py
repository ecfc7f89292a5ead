"""Typed dependencies the routes declare: the read session, the app context and the caller's role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from tradewind.api.auth.authentication import Principal, require_admin, require_op, require_viewer
from tradewind.api.context import AppContext, get_ctx, read_session
from tradewind.sdk.errors import NotFoundError

DbSession = Annotated[Session, Depends(read_session)]
Ctx = Annotated[AppContext, Depends(get_ctx)]
Viewer = Annotated[Principal, Depends(require_viewer)]
Op = Annotated[Principal, Depends(require_op)]
Admin = Annotated[Principal, Depends(require_admin)]


def _file_tokens(ctx: AppContext) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.secret_key, salt="tradewind.file-token")


def file_token(ctx: AppContext, fileloc: str) -> str:
    """An opaque token naming a DAG file, as Airflow's dagSources endpoint takes (no paths in URLs)."""
    return str(_file_tokens(ctx).dumps(fileloc))


def fileloc_of(ctx: AppContext, token: str) -> str:
    try:
        value = _file_tokens(ctx).loads(token)
    except BadSignature:
        raise NotFoundError(f"no DAG file for token {token!r}", kind="dag_source", ident=token) from None
    return str(value)
