"""An in-memory cache of serialized DAGs, keyed by dag_id and refreshed when the stored hash changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import SerializedDag
from tradewind.store.tables import SerializedDagModel


class DagCache:
    def __init__(self) -> None:
        self._dags: dict[str, tuple[str, SerializedDag]] = {}

    def get(self, session: Session, dag_id: str) -> SerializedDag | None:
        stored_hash = session.scalar(
            select(SerializedDagModel.dag_hash).where(SerializedDagModel.dag_id == dag_id)
        )
        if stored_hash is None:
            return None
        cached = self._dags.get(dag_id)
        if cached is not None and cached[0] == stored_hash:
            return cached[1]
        data = session.scalar(select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id))
        if data is None:
            return None
        sdag = SerializedDag.from_json(data)
        self._dags[dag_id] = (stored_hash, sdag)
        return sdag
