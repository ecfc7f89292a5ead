"""``create_app(settings)``: the FastAPI application serving the web UI and the REST API: /api/v1 in
Airflow 2's stable-API shapes, /api/v2 in Airflow 3's public-API shapes, /auth/token for bearer tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradewind.api.auth import login_routes as ui_auth
from tradewind.api.auth.authentication import Authenticator
from tradewind.api.auth.rate_limit import LoginRateLimiter
from tradewind.api.auth.secret_key import load_secret_key
from tradewind.api.auth.sessions import SessionCodec
from tradewind.api.context import AppContext
from tradewind.api.errors import install_error_handlers
from tradewind.api.middleware.body_limit import BodyLimitMiddleware
from tradewind.api.middleware.nul_characters import NulCharacterMiddleware
from tradewind.api.middleware.request_metrics import RequestMetricsMiddleware
from tradewind.api.middleware.security_headers import SecurityHeadersMiddleware
from tradewind.api.openapi import install_openapi
from tradewind.api.ui.rendering import STATIC_DIR, make_templates
from tradewind.api.ui.routes import health as ui_health
from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.log_sources import build_log_reader
from tradewind.observability.metrics_setup import MetricsSetup, build_metrics
from tradewind.plugins.registry import ensure_plugins_loaded
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.serialized_dag_cache import SerializedDagCache


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
    app = create_core_app(settings, metrics_setup=metrics_setup)
    complete_app(app)
    return app


def create_core_app(settings: Settings, *, metrics_setup: MetricsSetup | None = None) -> FastAPI:
    """The app with what a server answers first: /health, logging in and out, static files. ``complete_app``
    adds the rest; a server may serve this app before it does (``api.route_loading``)."""
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
    app.include_router(ui_health.router)
    app.include_router(ui_auth.router)
    install_openapi(app)
    return app


def complete_app(app: FastAPI) -> None:
    """Add every other route to an app ``create_core_app`` built (``api.route_table``), and make the dummy
    password hash, so logging in as an unknown user costs what logging in as a known one does."""
    # Imported here: the route modules are most of the webserver's import time (see create_core_app).
    from tradewind.api.route_table import include_routes

    include_routes(app)
    app.state.ctx.authenticator.warm_up()
