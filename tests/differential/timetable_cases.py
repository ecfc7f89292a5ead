"""Generated timetable cases (fixed seed) for the differential test against Airflow, and Tradewind's answers.

Cases cluster around every daylight-saving change of 2026 in zones of both hemispheres (and a few zones
without one), across cron expressions of every shape croniter reads, deltas, the non-periodic schedules and
both Airflow 2 (data interval) and Airflow 3 (trigger) semantics. ``now`` is placed on a tick, just before
and just after one, and far ahead; start and end dates fall on and off ticks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from tradewind.sdk.schedules import next_dagrun, timetable_from_dict, timetable_to_dict
from tradewind.sdk.timetables.base import DataInterval, Timetable, evaluated_at
from tradewind.sdk.timetables.cron import CronSchedule, localize
from tradewind.sdk.timetables.events import EventsTimetable
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from tradewind.sdk.timetables.simple import ContinuousTimetable, NullTimetable, OnceTimetable
from tradewind.sdk.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)

SEED = 20261206
DST_ZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Sydney", "America/Santiago")
PLAIN_ZONES = ("UTC", "Asia/Kolkata")
CRONS = (
    "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly",
    "0 2 * * *", "30 1 * * *", "30 2 * * *", "0 3 * * *", "45 23 * * *", "0 0 * * *",
    "*/15 * * * *", "30 * * * *", "0 */2 * * *", "0 1-3 * * *", "0 0,12 * * *",
    "0 9-17 * * 1-5", "15 10 * * MON,WED,FRI", "5 4 * * sun", "0 0 L * *", "0 12 1,15 * *",
    "0 6 * * L5", "0 8 * * 1#2", "0 0 29 2 *", "10 0 1 */3 *", "0 2 1-7 * 0",
)
DELTAS: tuple[dict[str, Any], ...] = (
    {"seconds": 3600},
    {"seconds": 86400},
    {"seconds": 1800},
    {"seconds": 5400},
    {"relativedelta": {"months": 1}},
    {"relativedelta": {"days": 1}},
    {"relativedelta": {"weeks": 1}},
    {"relativedelta": {"hours": 6}},
)
MULTI_CRONS = (("0 2 * * *", "30 14 * * 1-5"), ("*/30 * * * *", "0 2 * * *"), ("0 0 * * *", "0 0 * * 1"))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def transitions(zone: str, year: int = 2026) -> list[datetime]:
    """The UTC instants (to the hour) at which ``zone`` changes its offset during ``year``."""
    tz = ZoneInfo(zone)
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(tz).utcoffset()
    while moment.year == year:
        moment += timedelta(hours=1)
        offset = moment.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return found


def _delta(spec: dict[str, Any] | None) -> timedelta | relativedelta:
    if not spec:
        return timedelta()
    if "seconds" in spec:
        return timedelta(seconds=spec["seconds"])
    return relativedelta(**spec["relativedelta"])


def _run_immediately(value: bool | float | None) -> bool | timedelta:
    if isinstance(value, bool) or value is None:
        return bool(value)
    return timedelta(seconds=value)


def build(spec: dict[str, Any]) -> Timetable:
    """Tradewind's timetable for a case, rebuilt through its stored form as the scheduler does."""
    kind = spec["kind"]
    tz = spec.get("timezone", "UTC")
    timetable: Timetable
    if kind == "cron_interval":
        timetable = CronDataIntervalTimetable(spec["expression"], tz)
    elif kind == "cron_trigger":
        timetable = CronTriggerTimetable(
            spec["expression"],
            timezone=tz,
            interval=_delta(spec.get("interval")),
            run_immediately=_run_immediately(spec.get("run_immediately", False)),
        )
    elif kind == "multi_cron":
        timetable = MultipleCronTriggerTimetable(
            *spec["expressions"], timezone=tz, interval=_delta(spec.get("interval"))
        )
    elif kind == "delta_interval":
        timetable = DeltaDataIntervalTimetable(_delta(spec["delta"]))
    elif kind == "delta_trigger":
        timetable = DeltaTriggerTimetable(_delta(spec["delta"]), interval=_delta(spec.get("interval")))
    elif kind == "once":
        timetable = OnceTimetable()
    elif kind == "continuous":
        timetable = ContinuousTimetable()
    elif kind == "none":
        timetable = NullTimetable()
    elif kind == "events":
        timetable = EventsTimetable(
            [instant(e) for e in spec["events"]],  # type: ignore[misc]
            restrict_to_events=spec.get("restrict_to_events", False),
        )
    else:
        raise ValueError(kind)
    return timetable_from_dict(timetable_to_dict(timetable))


def tradewind_answer(case: dict[str, Any]) -> dict[str, Any]:
    try:
        timetable = build(case["timetable"])
        now = instant(case["now"])
        assert now is not None
        last = DataInterval(*map(instant, case["last"])) if case.get("last") else None  # type: ignore[arg-type]
        runs = []
        for _ in range(case["steps"]):
            info = next_dagrun(
                timetable,
                last_interval=last,
                start_date=instant(case["start_date"]),
                end_date=instant(case["end_date"]),
                catchup=case["catchup"],
                now=now,
            )
            if info is None:
                break
            interval = info.data_interval
            runs.append([iso(info.logical_date), iso(interval.start), iso(interval.end), iso(info.run_after)])
            last = interval
        manual = []
        with evaluated_at(now):
            for run_after in case.get("manual", []):
                interval = timetable.infer_manual_data_interval(run_after=instant(run_after))  # type: ignore[arg-type]
                manual.append([iso(interval.start), iso(interval.end)])
        return {"id": case["id"], "runs": runs, "manual": manual}
    except Exception as exc:
        return {"id": case["id"], "error": f"{type(exc).__name__}: {exc}"}


class _Generator:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.cases: list[dict[str, Any]] = []

    def add(self, timetable: dict[str, Any], **fields: Any) -> None:
        fields.setdefault("steps", 8)
        fields.setdefault("manual", [])
        fields.setdefault("last", None)
        self.cases.append({"id": f"c{len(self.cases):04d}", "timetable": timetable, **fields})

    def _around(self, anchor: datetime, days: float) -> datetime:
        """A random instant within ``days`` of ``anchor``, rounded to the minute now and then."""
        moment = anchor + timedelta(seconds=self.rng.uniform(-days, days) * 86400)
        if self.rng.random() < 0.6:
            moment = moment.replace(second=0, microsecond=0)
        if self.rng.random() < 0.3:
            moment = moment.replace(minute=0)
        return moment

    def _now_near_tick(self, expression: str, zone: str, anchor: datetime) -> datetime:
        """On a tick, a second before, a second after, or anywhere near ``anchor``."""
        schedule = CronSchedule(expression, zone)
        tick = schedule.align_to_next(anchor)
        return self.rng.choice(
            [tick, tick - timedelta(seconds=1), tick + timedelta(seconds=1), self._around(anchor, 1)]
        )

    def _end_date(self, expression: str, zone: str, start: datetime) -> datetime | None:
        choice = self.rng.random()
        if choice < 0.4:
            return None
        end = start + timedelta(days=self.rng.uniform(0.5, 6))
        if choice < 0.7:
            return CronSchedule(expression, zone).align_to_next(end)  # on a tick
        return end

    def cron_cases(self) -> None:
        for zone in DST_ZONES + PLAIN_ZONES:
            anchors = transitions(zone) or [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
            for anchor in anchors:
                for expression in CRONS:
                    kind = self.rng.choice(["cron_interval", "cron_trigger"])
                    start = self._around(anchor, 2 if "*" in expression.split()[1:2] else 3)
                    if self.rng.random() < 0.3:
                        start = localize(
                            start.astimezone(ZoneInfo(zone)).replace(tzinfo=None, minute=0, second=0, microsecond=0),
                            ZoneInfo(zone),
                        )
                    catchup = self.rng.random() < 0.6
                    now = (
                        anchor + timedelta(days=60)
                        if catchup and self.rng.random() < 0.5
                        else self._now_near_tick(expression, zone, anchor + timedelta(hours=self.rng.uniform(-30, 30)))
                    )
                    spec: dict[str, Any] = {"kind": kind, "expression": expression, "timezone": zone}
                    if kind == "cron_trigger" and self.rng.random() < 0.2:
                        spec["interval"] = self.rng.choice([{"seconds": 3600}, {"seconds": 86400}])
                    manual = [iso(self._around(anchor, 1)), iso(CronSchedule(expression, zone).align_to_next(anchor))]
                    self.add(
                        spec,
                        start_date=iso(start),
                        end_date=iso(self._end_date(expression, zone, start)),
                        catchup=catchup,
                        now=iso(now),
                        manual=manual,
                    )

    def fold_cases(self) -> None:
        """Sub-daily and at-the-changed-hour schedules walked straight through each clock change."""
        for zone in DST_ZONES:
            tz = ZoneInfo(zone)
            for change in transitions(zone):
                hour = (change - timedelta(minutes=1)).astimezone(tz).hour  # the local hour that moves
                crons = (
                    f"0 {hour} * * *", f"30 {hour} * * *", f"15 {hour},{(hour + 1) % 24} * * *",
                    "*/15 * * * *", "30 * * * *", "@hourly", "0 */2 * * *", f"45 {hour} * * 0-6",
                )
                for expression in crons:
                    every_hour = "*" in expression.split()[1:2] or expression == "@hourly"
                    for kind in ("cron_interval", "cron_trigger"):
                        start = change - timedelta(hours=4 if every_hour else 50)
                        self.add(
                            {"kind": kind, "expression": expression, "timezone": zone},
                            start_date=iso(start),
                            end_date=None,
                            catchup=True,
                            now=iso(change + timedelta(days=30)),
                            steps=12 if every_hour else 5,
                            manual=[iso(change + timedelta(minutes=self.rng.randint(-90, 90)))],
                        )

    def resume_cases(self) -> None:
        """The first run after a DAG is unpaused: a last run long ago, catchup on and off."""
        for _ in range(60):
            zone = self.rng.choice(DST_ZONES + PLAIN_ZONES)
            expression = self.rng.choice(CRONS)
            kind = self.rng.choice(["cron_interval", "cron_trigger"])
            anchor = self.rng.choice(transitions(zone) or [datetime(2026, 6, 1, tzinfo=UTC)])
            schedule = CronSchedule(expression, zone)
            last_start = schedule.align_to_next(anchor - timedelta(days=20))
            last_end = schedule.next_after(last_start) if kind == "cron_interval" else last_start
            self.add(
                {"kind": kind, "expression": expression, "timezone": zone},
                start_date=iso(datetime(2026, 1, 1, tzinfo=UTC)),
                end_date=None,
                catchup=self.rng.random() < 0.3,
                now=iso(self._now_near_tick(expression, zone, anchor)),
                last=[iso(last_start), iso(last_end)],
                steps=4,
            )

    def no_start_date_cases(self) -> None:
        """Trigger timetables with no start date: ``run_immediately`` decides the first run."""
        for _ in range(30):
            zone = self.rng.choice(DST_ZONES + PLAIN_ZONES)
            expression = self.rng.choice(CRONS)
            now = self._now_near_tick(expression, zone, self._around(datetime(2026, 7, 1, tzinfo=UTC), 150))
            run_immediately = self.rng.choice([True, False, None, 600.0, 7200.0])
            self.add(
                {"kind": "cron_trigger", "expression": expression, "timezone": zone, "run_immediately": run_immediately},
                start_date=None,
                end_date=None,
                catchup=self.rng.random() < 0.5,
                now=iso(now + timedelta(minutes=self.rng.choice([0, 1, 3, 10, 30]))),
                steps=3,
            )

    def delta_cases(self) -> None:
        for _ in range(70):
            spec = self.rng.choice(DELTAS)
            kind = self.rng.choice(["delta_interval", "delta_trigger"])
            start = self._around(datetime(2026, 6, 15, tzinfo=UTC), 150)
            catchup = self.rng.random() < 0.5
            now = start + timedelta(days=self.rng.uniform(-3, 90), seconds=self.rng.choice([0, 0, 1, -1]))
            timetable: dict[str, Any] = {"kind": kind, "delta": spec}
            if kind == "delta_trigger" and self.rng.random() < 0.3:
                timetable["interval"] = {"seconds": 3600}
            end = None if self.rng.random() < 0.5 else start + timedelta(days=self.rng.uniform(0.1, 40))
            self.add(
                timetable,
                start_date=iso(start),
                end_date=iso(end),
                catchup=catchup,
                now=iso(now),
                manual=[iso(now)],
            )

    def multi_cron_cases(self) -> None:
        for _ in range(30):
            zone = self.rng.choice(DST_ZONES + PLAIN_ZONES)
            crons = self.rng.choice(MULTI_CRONS)
            anchor = self.rng.choice(transitions(zone) or [datetime(2026, 6, 1, tzinfo=UTC)])
            self.add(
                {"kind": "multi_cron", "expressions": list(crons), "timezone": zone},
                start_date=iso(self._around(anchor, 2)),
                end_date=None,
                catchup=self.rng.random() < 0.6,
                now=iso(self._now_near_tick(crons[0], zone, anchor)),
                manual=[iso(self._around(anchor, 1))],
            )

    def simple_cases(self) -> None:
        for kind in ("once", "continuous", "none"):
            for _ in range(10):
                start = self._around(datetime(2026, 6, 15, tzinfo=UTC), 10) if self.rng.random() < 0.8 else None
                now = self._around(datetime(2026, 6, 15, tzinfo=UTC), 12)
                end = None if self.rng.random() < 0.6 else self._around(datetime(2026, 6, 20, tzinfo=UTC), 8)
                last = None
                if kind == "continuous" and self.rng.random() < 0.5:
                    last_start = self._around(datetime(2026, 6, 10, tzinfo=UTC), 5)
                    last = [iso(last_start), iso(last_start + timedelta(hours=self.rng.choice([0, 1, 400])))]
                self.add(
                    {"kind": kind},
                    start_date=iso(start),
                    end_date=iso(end),
                    catchup=self.rng.random() < 0.5,
                    now=iso(now),
                    last=last,
                    steps=1 if kind == "continuous" else 3,
                    manual=[iso(now)],
                )

    def events_cases(self) -> None:
        for _ in range(15):
            base = datetime(2026, 5, 1, tzinfo=UTC)
            events = sorted({iso(base + timedelta(days=self.rng.randint(0, 90), hours=self.rng.randint(0, 23))) for _ in range(8)})
            self.add(
                {"kind": "events", "events": events, "restrict_to_events": self.rng.random() < 0.5},
                start_date=iso(self._around(base + timedelta(days=20), 20)) if self.rng.random() < 0.7 else None,
                end_date=None if self.rng.random() < 0.6 else iso(base + timedelta(days=self.rng.randint(20, 100))),
                catchup=self.rng.random() < 0.5,
                now=iso(self._around(base + timedelta(days=45), 40)),
                manual=[iso(self._around(base + timedelta(days=40), 50))],
            )


def generate_cases() -> list[dict[str, Any]]:
    generator = _Generator()
    generator.cron_cases()
    generator.fold_cases()
    generator.resume_cases()
    generator.no_start_date_cases()
    generator.delta_cases()
    generator.multi_cron_cases()
    generator.simple_cases()
    generator.events_cases()
    return generator.cases
