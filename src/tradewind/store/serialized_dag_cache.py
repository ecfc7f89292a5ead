"""Parsed SerializedDags kept in memory by the hash of their stored form, so the scheduler's ticks and the
webserver's pages do not re-parse a DAG's JSON until the DAG processor stores a new version of it."""

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
    """``size``: the most DAGs kept (least recently used dropped first); None keeps every DAG (the
    scheduler, which reads every DAG with a running run on each tick). Safe to share between threads."""

    def __init__(self, size: int | None = None) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[str, SerializedDag]] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, session: Session, dag_id: str) -> SerializedDag | None:
        """The DAG's stored serialized form, None if the DAG has none (unknown, or not parsed yet)."""
        stored_hash = session.scalar(
            select(SerializedDagModel.dag_hash).where(SerializedDagModel.dag_id == dag_id)
        )
        if stored_hash is None:
            return None
        with self._lock:
            entry = self._entries.get(dag_id)
            if entry is not None and entry[0] == stored_hash:
                self._entries.move_to_end(dag_id)
                return entry[1]
        data = session.scalar(select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id))
        if data is None:
            return None
        sdag = SerializedDag.from_json(data)
        with self._lock:
            self._entries[dag_id] = (stored_hash, sdag)
            self._entries.move_to_end(dag_id)
            while self._size is not None and len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return sdag

    def get(self, *, session: Session, dag_id: str) -> SerializedDag:
        """The DAG's stored serialized form; NotFoundError names an unknown DAG or one not parsed yet."""
        sdag = self.find(session, dag_id)
        if sdag is None:
            dags.get_dag(session=session, dag_id=dag_id)  # names the DAG in the NotFoundError if it is unknown
            raise NotFoundError(
                f"DAG {dag_id!r} has no serialized form (not parsed yet?)", kind="dag", ident=dag_id
            )
        return sdag
