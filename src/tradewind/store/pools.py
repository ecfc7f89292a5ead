"""Pools: named slot budgets that cap how many task tries run at once, and their current occupancy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.core.states import TaskInstanceState
from tradewind.sdk.errors import ConflictError, NotFoundError, ParamValidationError
from tradewind.store.tables import PoolModel, TaskInstanceModel

DEFAULT_POOL = "default_pool"
DEFAULT_POOL_DESCRIPTION = "Default pool"


@dataclass(frozen=True, slots=True)
class PoolUsage:
    """A pool with the slots its queued and running tries hold."""

    name: str
    slots: int
    description: str | None
    queued: int
    running: int

    @property
    def occupied(self) -> int:
        return self.queued + self.running

    @property
    def open(self) -> int:
        return self.slots - self.occupied


def ensure_default_pool(*, session: Session, slots: int = 128) -> PoolModel:
    """Create ``default_pool`` if it is missing; an existing one keeps the slots an operator gave it."""
    pool = session.get(PoolModel, DEFAULT_POOL)
    if pool is None:
        pool = PoolModel(name=DEFAULT_POOL, slots=slots, description=DEFAULT_POOL_DESCRIPTION)
        session.add(pool)
    return pool


def get_pool(*, session: Session, name: str) -> PoolModel:
    pool = session.get(PoolModel, name)
    if pool is None:
        raise NotFoundError(f"pool {name!r} does not exist", kind="pool", ident=name)
    return pool


def set_pool(*, session: Session, name: str, slots: int, description: str | None = None) -> PoolModel:
    """Create the pool or change its slots and description."""
    if not name.strip():
        raise ParamValidationError("pool name must not be empty", param="name")
    if slots < 0:
        raise ParamValidationError(f"pool {name!r}: slots must be 0 or more, got {slots}", param="slots")
    pool = session.get(PoolModel, name)
    if pool is None:
        pool = PoolModel(name=name, slots=slots, description=description)
        session.add(pool)
    else:
        pool.slots = slots
        if description is not None:
            pool.description = description
    session.flush()
    return pool


def delete_pool(*, session: Session, name: str) -> None:
    if name == DEFAULT_POOL:
        raise ConflictError(f"{DEFAULT_POOL} cannot be deleted; set its slots instead")
    session.delete(get_pool(session=session, name=name))
    session.flush()


def _occupancy(session: Session, names: list[str] | None = None) -> dict[tuple[str, str], int]:
    stmt = (
        select(TaskInstanceModel.pool, TaskInstanceModel.state, func.sum(TaskInstanceModel.pool_slots))
        .where(TaskInstanceModel.state.in_([TaskInstanceState.QUEUED, TaskInstanceState.RUNNING]))
        .group_by(TaskInstanceModel.pool, TaskInstanceModel.state)
    )
    if names is not None:
        stmt = stmt.where(TaskInstanceModel.pool.in_(names))
    return {(pool, str(state)): int(total or 0) for pool, state, total in session.execute(stmt)}


def _usage(pool: PoolModel, occupancy: dict[tuple[str, str], int]) -> PoolUsage:
    return PoolUsage(
        name=pool.name,
        slots=pool.slots,
        description=pool.description,
        queued=occupancy.get((pool.name, TaskInstanceState.QUEUED.value), 0),
        running=occupancy.get((pool.name, TaskInstanceState.RUNNING.value), 0),
    )


def pool_usage(*, session: Session, name: str) -> PoolUsage:
    pool = get_pool(session=session, name=name)
    return _usage(pool, _occupancy(session, [name]))


def list_pools(*, session: Session) -> list[PoolUsage]:
    """Every pool, by name, with its queued, running, occupied and open slots."""
    pools = session.scalars(select(PoolModel).order_by(PoolModel.name)).all()
    occupancy = _occupancy(session)
    return [_usage(pool, occupancy) for pool in pools]
