"""The execution API as an application of its own: what the scheduler serves for the tries it starts when
no ``[execution_api] url`` is set (the local executor, `tradewind standalone`). The webserver mounts the
same routes under /execution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.errors import install_error_handlers
from tradewind.api.execution import routes
from tradewind.api.execution.context import ExecutionContext
from tradewind.config.settings import Settings
from tradewind.execution.tokens import TokenSigner, signer_from_settings
from tradewind.secrets.chain import secrets_chain
from tradewind.store.engine import make_engine, make_session_factory

#: Where the routes are served (the webserver mounts them here too); runners call URLs ending in it.
PREFIX = "/execution"


def execution_context(
    settings: Settings,
    write_factory: sessionmaker[Session],
    read_factory: sessionmaker[Session],
    signer: TokenSigner | None = None,
) -> ExecutionContext:
    """What the routes need, on the given sessions (the webserver's own, or the scheduler's server's)."""
    return ExecutionContext(
        write_factory=write_factory,
        read_factory=read_factory,
        signer=signer or signer_from_settings(settings),
        allowed_run_id_pattern=settings.scheduler.allowed_run_id_pattern,
        secrets=secrets_chain(settings, write_factory),
    )


def create_execution_app(settings: Settings, *, signer: TokenSigner | None = None) -> FastAPI:
    """Only the execution API: no UI, no user logins (every call carries a task token)."""
    engine = make_engine(settings.database_url, pool_size=settings.database.pool_size, immediate=True)
    read_engine = (
        make_engine(settings.database_url, pool_size=settings.database.pool_size, immediate=False)
        if engine.dialect.name == "sqlite"
        else engine
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()
        read_engine.dispose()

    app = FastAPI(
        title="Tradewind execution API", openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.execution = execution_context(
        settings, make_session_factory(engine), make_session_factory(read_engine), signer
    )
    install_error_handlers(app)
    app.include_router(routes.router, prefix=PREFIX)
    return app
