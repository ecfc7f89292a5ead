"""What the execution API's routes need: the database and the token signer. The webserver and the
scheduler's own server (for the local executor) build one each."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from tradewind.execution.tokens import TokenSigner
from tradewind.secrets.chain import SecretsChain


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    write_factory: sessionmaker[Session]
    #: For checks that only read (on SQLite they must not take the write lock).
    read_factory: sessionmaker[Session]
    signer: TokenSigner
    allowed_run_id_pattern: str
    #: Where connections and variables are looked up (``secrets_chain``); None: the database only.
    secrets: SecretsChain | None = None


async def execution_context(request: Request) -> ExecutionContext:
    """A coroutine: FastAPI runs a plain function dependency in its thread pool, a hand-off costing more than
    this attribute read."""
    ctx: ExecutionContext = request.app.state.execution
    return ctx
