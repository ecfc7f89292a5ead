"""DAGs and their serialized form: upsert from the DAG processor, queries, pause, deactivate, delete."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session, load_only

from tradewind.core.serialized_dag import SerializedDag
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.schedules import DagRunInfo
from tradewind.store.assets import prune_watchers
from tradewind.store.ordering import order_clauses
from tradewind.store.tables import (
    AssetDagRunQueueModel,
    DagCallbackRequestModel,
    DagModel,
    DagRunAssetEventModel,
    DagRunModel,
    DagScheduleAssetAliasModel,
    DagScheduleAssetModel,
    DagTagModel,
    SerializedDagModel,
    TaskInstanceHistoryModel,
    TaskInstanceModel,
    TaskOutletAssetModel,
    TaskStateModel,
    XComModel,
)

DAG_ORDER_COLUMNS = ("dag_id", "next_dagrun", "last_parsed_time", "is_paused", "fileloc", "created_at")
#: The tag column's length: longer tags are cut so one odd DAG file cannot fail the whole parse.
TAG_LENGTH = 100
#: Most ids in one ``IN (...)``: each is a bound parameter, and SQLite builds before 3.32 allow 999.
IN_LIST_SIZE = 500


def upsert_dag(*, session: Session, sdag: SerializedDag, paused_default: bool, now: datetime) -> bool:
    """Create or update the DAG row and its serialized form from a fresh parse (see ``upsert_dags``).

    Returns True when the serialized form changed (or is new).
    """
    return sdag.dag_id in upsert_dags(session=session, sdags=[sdag], paused_default=paused_default, now=now)


def upsert_dags(
    *, session: Session, sdags: Sequence[SerializedDag], paused_default: bool, now: datetime
) -> set[str]:
    """Create or update the DAG rows, tags and serialized forms of freshly parsed DAGs, in a fixed number of
    statements for up to ``IN_LIST_SIZE`` DAGs. Of two DAGs with the same id, the later one is stored.

    A new DAG starts paused per ``is_paused_upon_creation`` or ``paused_default``; an existing DAG keeps its
    pause flag. Every DAG given becomes active, parsed at ``now``. The serialized form is written only when
    its hash changed. Returns the ids of the DAGs whose serialized form changed (or is new).
    """
    by_id = {sdag.dag_id: sdag for sdag in sdags}
    if not by_id:
        return set()
    existing = get_dags(session=session, dag_ids=by_id)
    for dag_id, sdag in by_id.items():
        dag = existing.get(dag_id)
        if dag is None:
            paused = (
                sdag.is_paused_upon_creation if sdag.is_paused_upon_creation is not None else paused_default
            )
            dag = DagModel(dag_id=dag_id, is_paused=paused, created_at=now)
            session.add(dag)
        dag.fileloc = sdag.fileloc
        dag.relative_fileloc = sdag.relative_fileloc
        dag.is_active = True
        dag.description = sdag.description
        dag.dag_display_name = sdag.dag_display_name
        dag.tags = list(sdag.tags)
        dag.owners = list(sdag.owners)
        dag.timetable = dict(sdag.timetable)
        dag.schedule_description = sdag.schedule_description
        dag.max_active_runs = sdag.max_active_runs
        dag.max_active_tasks = sdag.max_active_tasks
        dag.last_parsed_time = now
    # The DAG rows go first: tags and serialized forms refer to them.
    session.flush()
    _sync_tags(session, {dag_id: sdag.tags for dag_id, sdag in by_id.items()}, existing=existing.keys())
    return _store_serialized(session, by_id, existing=existing.keys(), now=now)


def get_dags(*, session: Session, dag_ids: Collection[str]) -> dict[str, DagModel]:
    """dag_id -> DAG row for those of ``dag_ids`` that exist, in one query per ``IN_LIST_SIZE`` ids."""
    found: dict[str, DagModel] = {}
    for chunk in _chunks(dag_ids):
        stmt = select(DagModel).where(DagModel.dag_id.in_(chunk))
        found.update((dag.dag_id, dag) for dag in session.scalars(stmt))
    return found


def _store_serialized(
    session: Session, by_id: dict[str, SerializedDag], *, existing: Collection[str], now: datetime
) -> set[str]:
    rows: dict[str, SerializedDagModel] = {}
    # Only the hash is read: the stored JSON is large and is replaced, not compared.
    for chunk in _chunks(existing):
        stmt = (
            select(SerializedDagModel)
            .where(SerializedDagModel.dag_id.in_(chunk))
            .options(load_only(SerializedDagModel.dag_hash))
        )
        rows.update((row.dag_id, row) for row in session.scalars(stmt))
    changed: set[str] = set()
    for dag_id, sdag in by_id.items():
        dag_hash = sdag.content_hash()
        row = rows.get(dag_id)
        if row is not None and row.dag_hash == dag_hash:
            continue
        if row is None:
            row = SerializedDagModel(dag_id=dag_id)
            session.add(row)
        row.data = sdag.to_json()
        row.dag_hash = dag_hash
        row.last_updated = now
        changed.add(dag_id)
    session.flush()
    return changed


def _sync_tags(session: Session, tags: dict[str, Sequence[str]], *, existing: Collection[str]) -> None:
    """Make the tag rows of each DAG those given (a new DAG has none yet, so only existing ones are read)."""
    wanted = {dag_id: {tag[:TAG_LENGTH] for tag in names} for dag_id, names in tags.items()}
    current: dict[str, set[str]] = {dag_id: set() for dag_id in wanted}
    for chunk in _chunks(existing):
        stmt = select(DagTagModel.dag_id, DagTagModel.name).where(DagTagModel.dag_id.in_(chunk))
        for dag_id, name in session.execute(stmt):
            current[dag_id].add(name)
    stale = [(dag_id, name) for dag_id, names in wanted.items() for name in sorted(current[dag_id] - names)]
    # Two bound parameters per pair.
    for start in range(0, len(stale), IN_LIST_SIZE // 2):
        pairs = stale[start : start + IN_LIST_SIZE // 2]
        session.execute(delete(DagTagModel).where(tuple_(DagTagModel.dag_id, DagTagModel.name).in_(pairs)))
    fresh: list[dict[str, Any]] = [
        {"dag_id": dag_id, "name": name}
        for dag_id, names in wanted.items()
        for name in sorted(names - current[dag_id])
    ]
    if fresh:
        session.execute(insert(DagTagModel), fresh)


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    items = list(ids)
    for start in range(0, len(items), IN_LIST_SIZE):
        yield items[start : start + IN_LIST_SIZE]


def stored_dag_ids(*, session: Session) -> set[str]:
    """Every dag id with a row, active or not (one narrow query: the DAG processor asks on every pass)."""
    return set(session.scalars(select(DagModel.dag_id)))


def get_dag(*, session: Session, dag_id: str) -> DagModel:
    dag = session.get(DagModel, dag_id)
    if dag is None:
        raise NotFoundError(f"DAG {dag_id!r} does not exist", kind="dag", ident=dag_id)
    return dag


def get_serialized_dag(*, session: Session, dag_id: str) -> SerializedDag:
    row = session.get(SerializedDagModel, dag_id)
    if row is None:
        raise NotFoundError(
            f"DAG {dag_id!r} has no serialized form (not parsed yet?)", kind="dag", ident=dag_id
        )
    return SerializedDag.from_json(row.data)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_dags(
    *,
    session: Session,
    only_active: bool = True,
    paused: bool | None = None,
    tags: Collection[str] | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    order_by: str = "dag_id",
) -> tuple[Sequence[DagModel], int]:
    """DAGs matching the filters, and their total count.

    ``tags`` keeps DAGs carrying any of the tags; ``search`` matches a part of the dag id or of the display
    name, ignoring case.
    """
    conditions: list[ColumnElement[bool]] = []
    if only_active:
        conditions.append(DagModel.is_active.is_(True))
    if paused is not None:
        conditions.append(DagModel.is_paused.is_(paused))
    if tags:
        conditions.append(
            exists().where(DagTagModel.dag_id == DagModel.dag_id, DagTagModel.name.in_(list(tags)))
        )
    if search:
        pattern = f"%{_escape_like(search)}%"
        conditions.append(
            or_(
                DagModel.dag_id.ilike(pattern, escape="\\"),
                DagModel.dag_display_name.ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(DagModel).where(*conditions)) or 0
    stmt = (
        select(DagModel)
        .where(*conditions)
        .order_by(*order_clauses(DagModel, order_by, DAG_ORDER_COLUMNS, tiebreak="dag_id"))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def list_tags(*, session: Session) -> list[str]:
    """Every tag of an active DAG, sorted."""
    stmt = (
        select(DagTagModel.name)
        .join(DagModel, DagModel.dag_id == DagTagModel.dag_id)
        .where(DagModel.is_active.is_(True))
        .distinct()
        .order_by(DagTagModel.name)
    )
    return list(session.scalars(stmt))


def set_paused(*, session: Session, dag_id: str, is_paused: bool) -> DagModel:
    dag = get_dag(session=session, dag_id=dag_id)
    dag.is_paused = is_paused
    session.flush()
    return dag


def deactivate_dags(*, session: Session, dag_ids: Collection[str]) -> int:
    """Mark DAGs inactive (their file is gone or no longer defines them); returns how many changed."""
    if not dag_ids:
        return 0
    stmt = (
        update(DagModel)
        .where(DagModel.dag_id.in_(list(dag_ids)), DagModel.is_active.is_(True))
        .values(is_active=False)
        .execution_options(synchronize_session="fetch")
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def delete_dag(*, session: Session, dag_id: str) -> int:
    """Remove every trace of the DAG in the metadata (runs, task instances and their history, XComs, task
    state, serialized form, tags, pending DAG callbacks, its asset schedule, outlets and queued asset events, the
    DAG row); returns the number of runs deleted. The audit log and the asset events themselves are kept."""
    get_dag(session=session, dag_id=dag_id)
    _forget_asset_references(session, dag_id)
    for model in (
        XComModel,
        TaskStateModel,
        TaskInstanceHistoryModel,
        TaskInstanceModel,
        DagCallbackRequestModel,
    ):
        session.execute(
            delete(model).where(model.dag_id == dag_id).execution_options(synchronize_session="fetch")
        )
    runs = session.execute(
        delete(DagRunModel).where(DagRunModel.dag_id == dag_id).execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    for model in (DagTagModel, SerializedDagModel, DagModel):  # type: ignore[assignment]
        session.execute(
            delete(model).where(model.dag_id == dag_id).execution_options(synchronize_session="fetch")
        )
    return int(runs)


def _forget_asset_references(session: Session, dag_id: str) -> None:
    """The DAG's asset schedule, outlets and queued events: a DAG that comes back starts with none of them."""
    run_ids = select(DagRunModel.id).where(DagRunModel.dag_id == dag_id).scalar_subquery()
    session.execute(delete(DagRunAssetEventModel).where(DagRunAssetEventModel.dag_run_id.in_(run_ids)))
    session.execute(delete(AssetDagRunQueueModel).where(AssetDagRunQueueModel.target_dag_id == dag_id))
    for model in (DagScheduleAssetModel, DagScheduleAssetAliasModel, TaskOutletAssetModel):
        session.execute(delete(model).where(model.dag_id == dag_id))
    prune_watchers(session=session)  # the watchers of assets only this DAG was scheduled on


def set_next_dagrun(*, session: Session, dag_id: str, info: DagRunInfo | None) -> None:
    """Record the next scheduled run (None: the DAG has no further scheduled run)."""
    dag = get_dag(session=session, dag_id=dag_id)
    dag.next_dagrun = info.logical_date if info else None
    dag.next_dagrun_data_interval_start = info.data_interval.start if info else None
    dag.next_dagrun_data_interval_end = info.data_interval.end if info else None
    dag.next_dagrun_create_after = info.run_after if info else None
    session.flush()
