"""DAG-level callback requests: written by the scheduler when a run finishes, taken by the DAG processor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.tables import DagCallbackRequestModel
from tradewind.store.wakeup import DAG_CALLBACKS, ring

#: Callback attribute names of a DAG, as the request stores them.
ON_SUCCESS = "on_success_callback"
ON_FAILURE = "on_failure_callback"


def request_dag_callback(
    *, session: Session, dag_id: str, run_id: str, callback: str, reason: str, now: datetime
) -> bool:
    """Ask for ``callback`` of the DAG to run for this run; False when the same request is still pending
    (a run that finishes again before the first callback ran gets one call, not two)."""
    if callback not in (ON_SUCCESS, ON_FAILURE):
        raise ValueError(f"unknown DAG callback {callback!r}")
    pending = session.scalar(
        select(DagCallbackRequestModel.id).where(
            DagCallbackRequestModel.dag_id == dag_id,
            DagCallbackRequestModel.run_id == run_id,
            DagCallbackRequestModel.callback == callback,
        )
    )
    if pending is not None:
        return False
    session.add(
        DagCallbackRequestModel(dag_id=dag_id, run_id=run_id, callback=callback, reason=reason, created_at=now)
    )
    session.flush()
    ring(session, DAG_CALLBACKS)  # the DAG processor's callback thread takes it at once
    return True


def claimable_dag_callbacks(
    *, session: Session, stale_before: datetime, limit: int = 50
) -> Sequence[DagCallbackRequestModel]:
    """Requests nobody holds (never claimed, or claimed before ``stale_before``), oldest first."""
    stmt = (
        select(DagCallbackRequestModel)
        .where(_claimable(stale_before))
        .order_by(DagCallbackRequestModel.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def claim_dag_callback(*, session: Session, request_id: int, now: datetime, stale_before: datetime) -> bool:
    """Compare-and-set: take the request unless another DAG processor holds it."""
    result = session.execute(
        update(DagCallbackRequestModel)
        .where(DagCallbackRequestModel.id == request_id, _claimable(stale_before))
        .values(claimed_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def get_dag_callback_request(*, session: Session, request_id: int) -> DagCallbackRequestModel:
    request = session.get(DagCallbackRequestModel, request_id)
    if request is None:
        raise NotFoundError(f"DAG callback request {request_id} does not exist", kind="dag_callback_request",
                            ident=str(request_id))
    return request


def _claimable(stale_before: datetime) -> ColumnElement[bool]:
    return or_(DagCallbackRequestModel.claimed_at.is_(None), DagCallbackRequestModel.claimed_at < stale_before)


def delete_dag_callback_request(*, session: Session, request_id: int) -> bool:
    """Remove a request once it ran (or can never run); False if someone else removed it first."""
    result = session.execute(delete(DagCallbackRequestModel).where(DagCallbackRequestModel.id == request_id))
    return result.rowcount == 1  # type: ignore[attr-defined]


def release_dag_callback(*, session: Session, request_id: int, claimed_at: datetime) -> bool:
    """Give a claimed request back (its process was stopped before it ended) so any DAG processor may run it
    at once; only while the claim is still the one taken at ``claimed_at``."""
    result = session.execute(
        update(DagCallbackRequestModel)
        .where(DagCallbackRequestModel.id == request_id, DagCallbackRequestModel.claimed_at == claimed_at)
        .values(claimed_at=None)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
