"""The DAG list page's data: one page of DAGs with their latest runs, in three queries whatever the page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.store import dags
from tradewind.store.tables import DagModel, DagRunModel, ImportErrorModel

RECENT_RUNS = 5


@dataclass(frozen=True, slots=True)
class RecentRun:
    run_id: str
    state: str
    logical_date: datetime


@dataclass(slots=True)
class DagListPage:
    dags: Sequence[DagModel]
    total: int
    recent_runs: dict[str, list[RecentRun]]
    import_errors: int
    tags: list[str]


def recent_runs(
    *, session: Session, dag_ids: Sequence[str], per_dag: int = RECENT_RUNS
) -> dict[str, list[RecentRun]]:
    """The newest ``per_dag`` runs of each DAG, newest first."""
    if not dag_ids:
        return {}
    number = (
        func.row_number()
        .over(
            partition_by=DagRunModel.dag_id, order_by=(DagRunModel.logical_date.desc(), DagRunModel.id.desc())
        )
        .label("n")
    )
    inner = (
        select(DagRunModel.dag_id, DagRunModel.run_id, DagRunModel.state, DagRunModel.logical_date, number)
        .where(DagRunModel.dag_id.in_(list(dag_ids)))
        .subquery()
    )
    rows = session.execute(
        select(inner.c.dag_id, inner.c.run_id, inner.c.state, inner.c.logical_date)
        .where(inner.c.n <= per_dag)
        .order_by(inner.c.dag_id, inner.c.n)
    )
    runs: dict[str, list[RecentRun]] = defaultdict(list)
    for dag_id, run_id, state, logical_date in rows:
        runs[dag_id].append(RecentRun(run_id, state, logical_date))
    return dict(runs)


def dag_list_page(
    *,
    session: Session,
    search: str | None,
    tags: list[str],
    paused: bool | None,
    limit: int,
    offset: int,
) -> DagListPage:
    rows, total = dags.list_dags(
        session=session, search=search or None, tags=tags or None, paused=paused, limit=limit, offset=offset
    )
    errors = session.scalar(select(func.count()).select_from(ImportErrorModel)) or 0
    return DagListPage(
        dags=rows,
        total=total,
        recent_runs=recent_runs(session=session, dag_ids=[d.dag_id for d in rows]),
        import_errors=int(errors),
        tags=dags.list_tags(session=session),
    )
