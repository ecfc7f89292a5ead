"""``POST /auth/token`` (and ``/auth/token/cli``): a username and password exchanged for a bearer token, as
Airflow 3's simple auth manager offers, so airflowctl and Airflow 3 clients can log in. The token is a
Tradewind API token (``tradewind users list-tokens`` shows it) that expires by itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tradewind.actions.accounts import create_token
from tradewind.api.auth.authentication import client_address
from tradewind.api.dependencies import Ctx
from tradewind.api.errors import CREATED
from tradewind.api.rest.schemas.common import ERROR_RESPONSES
from tradewind.api.rest.schemas.strict import RequestBody

router = APIRouter(tags=["Login"], responses=ERROR_RESPONSES)
#: Lifetimes as Airflow's defaults: a day for API clients, an hour for the command line.
TOKEN_DAYS = 1.0
CLI_TOKEN_DAYS = 1.0 / 24


class LoginBody(RequestBody):
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class LoginResponse(BaseModel):
    access_token: str


def _issue(request: Request, ctx: Ctx, body: LoginBody, *, days: float, via: str) -> dict[str, str]:
    user = ctx.authenticator.login(body.username, body.password, client_address(request), via=via)
    token = create_token(ctx.write_factory, username=user.username, name=via, expires_days=days)
    return {"access_token": token}


@router.post("/token", response_model=LoginResponse, status_code=CREATED, summary="Log in for a bearer token")
def token(request: Request, body: LoginBody, ctx: Ctx) -> dict[str, str]:
    return _issue(request, ctx, body, days=TOKEN_DAYS, via="auth/token")


@router.post(
    "/token/cli", response_model=LoginResponse, status_code=CREATED, summary="The same, for airflowctl"
)
def token_cli(request: Request, body: LoginBody, ctx: Ctx) -> dict[str, str]:
    return _issue(request, ctx, body, days=CLI_TOKEN_DAYS, via="auth/token/cli")
