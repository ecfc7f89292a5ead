"""The engine a try talks to the database with, prepared once by a parent that forks many tries.

A try is a short-lived process. Left to itself it would configure SQLAlchemy's ORM mappers and compile every
statement it sends from scratch: ~20 ms of CPU per try, a third of a no-op try's cost. The LocalExecutor's fork
server instead rehearses one try against the database before forking any (``fork_server_warmup``), keeps that
engine here, and every try forked from it starts with the mappers configured and the statement cache full.
A child drops the connections it inherited and opens its own; only compiled statements are shared.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from tradewind.store.engine import make_engine

#: Connections a try needs: its own work plus the heartbeat thread.
RUNNER_POOL_SIZE = 2
#: Set by the LocalExecutor in the fork server's environment only: the database its tries use.
FORK_SERVER_DATABASE_ENV = "TRADEWIND_FORK_SERVER_DATABASE_URL"

_warm: tuple[str, Engine, int] | None = None


def new_runner_engine(url: str) -> Engine:
    return make_engine(url, pool_size=RUNNER_POOL_SIZE)


def keep_warm_engine(url: str, engine: Engine) -> None:
    """Make ``engine`` (rehearsed, its pool emptied) the one tries forked from this process use for ``url``."""
    global _warm
    _warm = (url, engine, os.getpid())


def runner_engine(url: str) -> Engine:
    """The engine for a try: the warm one of the parent this process was forked from, if it is for ``url``
    (with the parent's connections dropped, never closed: they are not ours), else a new one."""
    if _warm is not None:
        warm_url, engine, owner = _warm
        if warm_url == url and owner != os.getpid():
            engine.dispose(close=False)
            return engine
    return new_runner_engine(url)
