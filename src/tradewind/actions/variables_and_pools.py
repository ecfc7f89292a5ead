"""Changes to variables and pools from the UI and the API, each audited (never with a variable's value)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tradewind.actions.actor import Actor
from tradewind.core.clock import utcnow
from tradewind.sdk.errors import ConflictError, NotFoundError, ParamValidationError
from tradewind.store import pools, variables
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction
from tradewind.store.tables import PoolModel, VariableModel


def _exists_variable(session: Session, key: str) -> bool:
    return session.get(VariableModel, key) is not None


def create_variable(
    factory: sessionmaker[Session], actor: Actor, *, key: str, value: str, description: str | None
) -> VariableModel:
    key = key.strip()
    if not key:
        raise ParamValidationError("variable key must not be empty", param="key")
    with transaction(factory) as session:
        if _exists_variable(session, key):
            raise ConflictError(f"variable {key!r} already exists; edit it instead")
        row = variables.set_variable(session=session, key=key, value=value, description=description)
        _audit(session, actor, "variable_create", {"key": key})
        return row


def update_variable(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    key: str,
    value: str | None,
    description: str | None,
) -> VariableModel:
    """Change a variable; ``value=None`` keeps the stored value (a masked secret left untouched in a form)."""
    with transaction(factory) as session:
        current = variables.get_variable(session=session, key=key)
        row = variables.set_variable(
            session=session,
            key=key,
            value=current.val if value is None else value,
            description=description,
        )
        _audit(session, actor, "variable_update", {"key": key})
        return row


def delete_variable(factory: sessionmaker[Session], actor: Actor, *, key: str) -> None:
    with transaction(factory) as session:
        variables.delete_variable(session=session, key=key)
        _audit(session, actor, "variable_delete", {"key": key})


def create_pool(
    factory: sessionmaker[Session], actor: Actor, *, name: str, slots: int, description: str | None
) -> PoolModel:
    name = name.strip()
    with transaction(factory) as session:
        if name and session.get(PoolModel, name) is not None:
            raise ConflictError(f"pool {name!r} already exists; edit it instead")
        pool = pools.set_pool(session=session, name=name, slots=slots, description=description)
        _audit(session, actor, "pool_create", {"name": name, "slots": slots})
        return pool


def update_pool(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    name: str,
    slots: int | None,
    description: str | None,
) -> PoolModel:
    with transaction(factory) as session:
        current = session.get(PoolModel, name)
        if current is None:
            raise NotFoundError(f"pool {name!r} does not exist", kind="pool", ident=name)
        pool = pools.set_pool(
            session=session,
            name=name,
            slots=current.slots if slots is None else slots,
            description=description,
        )
        _audit(session, actor, "pool_update", {"name": name, "slots": pool.slots})
        return pool


def delete_pool(factory: sessionmaker[Session], actor: Actor, *, name: str) -> None:
    with transaction(factory) as session:
        pools.delete_pool(session=session, name=name)
        _audit(session, actor, "pool_delete", {"name": name})


def _audit(session: Session, actor: Actor, event: str, extra: dict[str, object]) -> None:
    """The audit entry of one change, made by ``actor`` now, in the change's own transaction."""
    record_audit(session=session, event=event, owner=actor.username, extra=extra, now=utcnow())
