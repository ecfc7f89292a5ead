"""/metrics: this process's metrics in Prometheus' text format, for a logged-in user, an API token, or a
scraper presenting ``Authorization: Bearer <[metrics] token>``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tradewind.api.auth.authentication import authenticate
from tradewind.observability.metrics_prometheus import content_type
from tradewind.observability.metrics_server import bearer_matches
from tradewind.observability.metrics_setup import MetricsSetup
from tradewind.sdk.errors import NotFoundError

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    setup: MetricsSetup = request.app.state.metrics
    token = request.app.state.ctx.settings.metrics.token
    if token is None or not bearer_matches(request.headers.get("authorization"), token.get_secret_value()):
        await authenticate(request)
    if setup.prometheus is None:
        raise NotFoundError(
            "Prometheus metrics are off (metrics.prometheus_on = false)", kind="metrics", ident="/metrics"
        )
    return Response(setup.prometheus.render(), media_type=content_type())
