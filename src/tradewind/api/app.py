"""``create_app(settings)``: the FastAPI application serving the web UI and the REST API: /api/v1 in
Airflow 2's stable-API shapes, /api/v2 in Airflow 3's public-API shapes, /auth/token for bearer tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradewind.api import metrics_endpoint as metrics
from tradewind.api.auth import login_routes as ui_auth
from tradewind.api.auth import token_routes as auth_token
from tradewind.api.auth.authentication import Authenticator
from tradewind.api.auth.rate_limit import LoginRateLimiter
from tradewind.api.auth.secret_key import load_secret_key
from tradewind.api.auth.sessions import SessionCodec
from tradewind.api.context import AppContext
from tradewind.api.errors import install_error_handlers
from tradewind.api.execution import routes as execution_routes
from tradewind.api.execution.app import PREFIX as EXECUTION_PREFIX
from tradewind.api.execution.app import execution_context
from tradewind.api.middleware.body_limit import BodyLimitMiddleware
from tradewind.api.middleware.nul_characters import NulCharacterMiddleware
from tradewind.api.middleware.request_metrics import RequestMetricsMiddleware
from tradewind.api.middleware.security_headers import SecurityHeadersMiddleware
from tradewind.api.openapi import install_openapi
from tradewind.api.rest.v1 import connections as api_connections
from tradewind.api.rest.v1 import dags as api_dags
from tradewind.api.rest.v1 import datasets as api_datasets
from tradewind.api.rest.v1 import docs as api_docs
from tradewind.api.rest.v1 import extra_links as api_extra_links
from tradewind.api.rest.v1 import resources as api_resources
from tradewind.api.rest.v1 import runs as api_runs
from tradewind.api.rest.v1 import task_instances as api_task_instances
from tradewind.api.rest.v2 import assets as v2_assets
from tradewind.api.rest.v2 import connections as v2_connections
from tradewind.api.rest.v2 import dag_runs as v2_dag_runs
from tradewind.api.rest.v2 import dags as v2_dags
from tradewind.api.rest.v2 import resources as v2_resources
from tradewind.api.rest.v2 import task_instances as v2_task_instances
from tradewind.api.ui.rendering import STATIC_DIR, make_templates
from tradewind.api.ui.routes import actions as ui_actions
from tradewind.api.ui.routes import admin as ui_admin
from tradewind.api.ui.routes import assets as ui_assets
from tradewind.api.ui.routes import charts as ui_charts
from tradewind.api.ui.routes import config as ui_config
from tradewind.api.ui.routes import connections as ui_connections
from tradewind.api.ui.routes import dag as ui_dag
from tradewind.api.ui.routes import dags as ui_dags
from tradewind.api.ui.routes import health as ui_health
from tradewind.api.ui.routes import live as ui_live
from tradewind.api.ui.routes import preferences as ui_preferences
from tradewind.api.ui.routes import task as ui_task
from tradewind.api.ui.routes import trigger as ui_trigger
from tradewind.api.ui.routes import users as ui_users
from tradewind.api.ui.routes import xcoms as ui_xcoms
from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.log_sources import build_log_reader
from tradewind.observability.metrics_setup import MetricsSetup, build_metrics
from tradewind.plugins.registry import ensure_plugins_loaded
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.serialized_dag_cache import SerializedDagCache

API_PREFIX = "/api/v1"
#: Airflow 3's public API shapes, for apache-airflow-client 3.x and airflowctl.
API_V2_PREFIX = "/api/v2"


def package_version() -> str:
    try:
        return version("tradewind")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "0.0.0+unknown"


def build_context(settings: Settings) -> AppContext:
    url = settings.database_url
    pool = settings.database.pool_size
    read_engine = make_engine(url, echo=settings.database.echo, pool_size=pool, immediate=False)
    # On SQLite writers take the write lock at BEGIN (no deadlocking upgrade); elsewhere one engine serves.
    write_engine = (
        make_engine(url, echo=settings.database.echo, pool_size=pool, immediate=True)
        if read_engine.dialect.name == "sqlite"
        else read_engine
    )
    read_factory = make_session_factory(read_engine)
    write_factory = make_session_factory(write_engine)
    secret = load_secret_key(settings)
    codec = SessionCodec(secret, max_age=settings.webserver.session_lifetime_minutes * 60)
    limiter = LoginRateLimiter(settings.webserver.login_rate_limit, write_factory=write_factory)
    return AppContext(
        settings=settings,
        read_engine=read_engine,
        write_engine=write_engine,
        read_factory=read_factory,
        write_factory=write_factory,
        templates=make_templates(),
        authenticator=Authenticator(read_factory, write_factory, codec, limiter),
        dag_cache=SerializedDagCache(size=32),
        secret_key=secret,
        version=package_version(),
        started_at=utcnow(),
        log_reader=build_log_reader(settings, read_factory),
    )


def create_app(settings: Settings, *, metrics_setup: MetricsSetup | None = None) -> FastAPI:
    """``metrics_setup``: the registry of a process that runs more than the webserver (`standalone`), so
    /metrics shows all of it; by default the webserver builds its own."""
    # Triggering a run rebuilds the DAG's timetable, which may be a plugin's.
    ensure_plugins_loaded(settings)
    ctx = build_context(settings)
    own_metrics = metrics_setup is None
    metrics_setup = metrics_setup or build_metrics(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.dispose()
        if own_metrics:
            metrics_setup.close()

    app = FastAPI(
        title="Tradewind REST API",
        version=ctx.version,
        description="/api/v1 answers in Airflow 2's stable REST API shapes, /api/v2 in Airflow 3's public API "
        "shapes. Authenticate with HTTP basic or a bearer token from `tradewind users create-token` or "
        "`POST /auth/token`.",
        openapi_url=None,  # served by api_docs behind authentication
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.metrics = metrics_setup
    install_error_handlers(app)
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.webserver.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics_setup.metrics)
    # Outermost, so everything inside sees the client address and scheme as the trusted proxy saw them.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.webserver.forwarded_allow_ips)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        api_dags,
        api_runs,
        api_task_instances,
        api_extra_links,
        api_resources,
        api_connections,
        api_datasets,
        api_docs,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (v2_dags, v2_dag_runs, v2_task_instances, v2_resources, v2_connections, v2_assets):
        app.include_router(module.router, prefix=API_V2_PREFIX)
    app.include_router(api_extra_links.router_v2, prefix=API_V2_PREFIX)
    app.include_router(auth_token.router, prefix="/auth")
    # The task execution API: task tokens, not user logins (api/execution).
    app.state.execution = execution_context(settings, ctx.write_factory, ctx.read_factory)
    app.include_router(execution_routes.router, prefix=EXECUTION_PREFIX)
    for module in (
        ui_health,
        ui_auth,
        ui_dags,
        ui_dag,
        ui_trigger,
        ui_actions,
        ui_task,
        ui_admin,
        ui_connections,
        ui_assets,
        ui_live,
        ui_charts,
        ui_users,
        ui_xcoms,
        ui_config,
        ui_preferences,
        metrics,
    ):
        app.include_router(module.router)
    install_openapi(app)
    return app
