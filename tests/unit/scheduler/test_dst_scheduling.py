"""The scheduler across daylight-saving changes: one run per day on the day clocks go back.

DAG objects are written as a user writes them, serialized as the DAG processor does, stored, and scheduled by
the real ``Scheduler.tick`` under an injected clock. The logical dates expected are Apache Airflow 3.3's (the
differential suite in tests/differential checks the same timetables against Airflow itself).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.scheduler.twins import store_dag
from tradewind.core.clock import FrozenClock
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.dag import DAG
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.schedules import ScheduleDefaults, configure_schedule_defaults
from tradewind.store import dag_runs


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(params=[False, True], ids=["airflow3-trigger", "airflow2-data-intervals"])
def cron_data_intervals(request: pytest.FixtureRequest) -> object:
    configure_schedule_defaults(ScheduleDefaults(cron_data_intervals=request.param))
    yield request.param
    configure_schedule_defaults(ScheduleDefaults())


def _store(sessions: sessionmaker[Session], dag: DAG, *, work: bool = False) -> None:
    """Store ``dag`` with one task: an empty one, or (``work``) one that waits for the executor."""
    with dag:
        if work:
            BashOperator(task_id="load", bash_command="true")
        else:
            EmptyOperator(task_id="load")
    store_dag(sessions, serialize_dag(dag, fileloc=f"/dags/{dag.dag_id}.py", relative_fileloc=f"{dag.dag_id}.py"))


def _logical_dates(sessions: sessionmaker[Session], dag_id: str) -> list[datetime]:
    with sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id=dag_id, limit=100)
        return sorted(r.logical_date.astimezone(UTC) for r in runs)


def _tick_until_quiet(scheduler: Scheduler, clock: FrozenClock, sessions: sessionmaker[Session], dag_id: str) -> None:
    """Tick until a tick creates no new run (each tick creates at most one run per DAG)."""
    seen = -1
    for _ in range(50):
        count = len(_logical_dates(sessions, dag_id))
        if count == seen:
            return
        seen = count
        scheduler.tick(clock.now())
    raise AssertionError("the scheduler kept creating runs")


@pytest.mark.parametrize(
    ("zone", "cron", "start", "end", "expected_trigger", "expected_intervals"),
    [
        (
            "Europe/Amsterdam", "0 2 * * *", (2026, 10, 21), (2026, 10, 28, 23),
            # 02:00 CEST = 00:00 UTC until the 24th; 25 October's 02:00 happens twice: the second, 01:00 UTC.
            [utc(2026, 10, d, 0) for d in range(21, 25)] + [utc(2026, 10, d, 1) for d in range(25, 29)],
            [utc(2026, 10, d, 0) for d in range(21, 25)] + [utc(2026, 10, d, 1) for d in range(25, 29)],
        ),
        (
            "America/New_York", "30 1 * * *", (2026, 10, 29), (2026, 11, 3, 12),
            [utc(2026, 10, d, 5, 30) for d in (29, 30, 31)] + [utc(2026, 11, d, 6, 30) for d in (1, 2, 3)],
            [utc(2026, 10, d, 5, 30) for d in (29, 30, 31)] + [utc(2026, 11, d, 6, 30) for d in (1, 2, 3)],
        ),
    ],
    ids=["amsterdam", "new-york"],
)
def test_catchup_gives_one_run_per_day_at_airflows_logical_dates(
    sessions: sessionmaker[Session],
    scheduler: Scheduler,
    cron_data_intervals: bool,
    zone: str,
    cron: str,
    start: tuple[int, ...],
    end: tuple[int, ...],
    expected_trigger: list[datetime],
    expected_intervals: list[datetime],
) -> None:
    tz = ZoneInfo(zone)
    dag = DAG(
        f"daily_{zone.split('/')[1].lower()}",
        schedule=cron,
        start_date=datetime(*start, tzinfo=tz),
        end_date=datetime(*end, tzinfo=tz),
        catchup=True,
        max_active_runs=50,
    )
    _store(sessions, dag)
    clock = FrozenClock(utc(2026, 12, 1))
    _tick_until_quiet(scheduler, clock, sessions, dag.dag_id)
    dates = _logical_dates(sessions, dag.dag_id)
    assert dates == (expected_intervals if cron_data_intervals else expected_trigger)
    assert len({d.astimezone(tz).date() for d in dates}) == len(dates), "two runs on one local day"


def test_a_clock_passing_through_the_repeated_hour_starts_one_run(
    sessions: sessionmaker[Session], scheduler: Scheduler, cron_data_intervals: bool
) -> None:
    """The scheduler is evaluated every few minutes while Amsterdam's 02:00-03:00 happens twice."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    dag = DAG(
        "nightly", schedule="0 2 * * *", start_date=datetime(2026, 10, 20, tzinfo=amsterdam), catchup=False
    )
    _store(sessions, dag)
    clock = FrozenClock(utc(2026, 10, 24, 23, 30))  # 01:30 CEST, half an hour before the first 02:00
    scheduler.tick(clock.now())  # catches up the newest past run (without catchup), before the change
    before = set(_logical_dates(sessions, "nightly"))
    while clock.now() < utc(2026, 10, 25, 3):  # until 04:00 CET, past both 02:00s
        scheduler.tick(clock.now())
        clock.advance(timedelta(minutes=5))
    new = sorted(set(_logical_dates(sessions, "nightly")) - before)
    # The run for the night of the change: at the second 02:00 (01:00 UTC) under Airflow 3's trigger meaning;
    # under data intervals the run covering 24 to 25 October is created when that interval ends at 01:00 UTC.
    expected = utc(2026, 10, 25, 1) if not cron_data_intervals else utc(2026, 10, 24, 0)
    assert expected in new
    assert new == [expected], f"runs created while the hour repeated: {new}"


def test_continuous_dags_start_the_next_run_when_the_previous_one_ends(
    sessions: sessionmaker[Session], scheduler: Scheduler
) -> None:
    """``@continuous``: one run at a time, each covering from the previous run's end to its own start."""
    from tradewind.core.states import DagRunState
    from tradewind.store.engine import transaction

    dag = DAG("always", schedule="@continuous", start_date=utc(2026, 1, 1))
    assert dag.max_active_runs == 1
    _store(sessions, dag, work=True)
    clock = FrozenClock(utc(2026, 3, 1, 12))
    scheduler.tick(clock.now())
    scheduler.tick(clock.now())
    with sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id="always")
    assert len(runs) == 1, [(r.run_id, r.state) for r in runs]
    first = runs[0]
    assert (first.data_interval_start, first.data_interval_end) == (utc(2026, 1, 1), utc(2026, 3, 1, 12))
    with transaction(sessions) as session:
        dag_runs.set_dag_run_state(
            session=session, dag_id="always", run_id=first.run_id, expected=DagRunState(first.state),
            target=DagRunState.SUCCESS, now=clock.now(),
        )
    clock.advance(timedelta(minutes=3))
    scheduler.tick(clock.now())
    with sessions() as session:
        runs, _ = dag_runs.list_dag_runs(session=session, dag_id="always")
    assert len(runs) == 2
    second = max(runs, key=lambda r: r.logical_date)
    assert (second.data_interval_start, second.data_interval_end) == (utc(2026, 3, 1, 12), utc(2026, 3, 1, 12, 3))
