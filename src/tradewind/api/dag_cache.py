"""Parsed SerializedDags kept by hash, so pages of large DAGs do not re-parse their JSON on every request."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import SerializedDag
from tradewind.sdk.errors import NotFoundError
from tradewind.store import dags
from tradewind.store.tables import SerializedDagModel


class SerializedDagCache:
    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[str, SerializedDag]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *, session: Session, dag_id: str) -> SerializedDag:
        """The DAG's stored serialized form (NotFoundError if the DAG or its serialized form is missing)."""
        current = session.scalar(
            select(SerializedDagModel.dag_hash).where(SerializedDagModel.dag_id == dag_id)
        )
        if current is None:
            dags.get_dag(
                session=session, dag_id=dag_id
            )  # names the DAG in the NotFoundError if it is unknown
            raise NotFoundError(
                f"DAG {dag_id!r} has no serialized form (not parsed yet?)", kind="dag", ident=dag_id
            )
        with self._lock:
            entry = self._entries.get(dag_id)
            if entry is not None and entry[0] == current:
                self._entries.move_to_end(dag_id)
                return entry[1]
        sdag = dags.get_serialized_dag(session=session, dag_id=dag_id)
        with self._lock:
            self._entries[dag_id] = (current, sdag)
            self._entries.move_to_end(dag_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return sdag
