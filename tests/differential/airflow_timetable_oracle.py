"""Run inside a virtual environment holding Apache Airflow (never Tradewind): read timetable cases as JSON on
stdin, answer with what Airflow's own timetable classes schedule for each, as JSON on stdout.

Each case names a timetable, a DAG's restriction (start date, end date, catchup), the instant taken as
"now", a number of scheduled runs to ask for in a row, an optional last automated data interval to resume
from, and run-after instants for manual runs. Times are exchanged as ISO 8601 in UTC. Airflow reads the wall
clock itself, so each case is evaluated under a frozen clock (time-machine).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-oracle-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import pendulum
import time_machine
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.timetables.events import EventsTimetable
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from airflow.timetables.simple import ContinuousTimetable, NullTimetable, OnceTimetable
from airflow.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)
from dateutil.relativedelta import relativedelta


def instant(text: str | None) -> pendulum.DateTime | None:
    if text is None:
        return None
    return pendulum.instance(dt.datetime.fromisoformat(text)).in_timezone("UTC")


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value.timestamp(), dt.UTC).isoformat()


def delta(spec: dict | None) -> dt.timedelta | relativedelta:
    if not spec:
        return dt.timedelta()
    if "seconds" in spec:
        return dt.timedelta(seconds=spec["seconds"])
    return relativedelta(**spec["relativedelta"])


def run_immediately(value: bool | float | None) -> bool | dt.timedelta:
    if isinstance(value, bool) or value is None:
        return bool(value)
    return dt.timedelta(seconds=value)


def build(spec: dict):
    kind = spec["kind"]
    tz = pendulum.timezone(spec.get("timezone", "UTC"))
    if kind == "cron_interval":
        return CronDataIntervalTimetable(spec["expression"], tz)
    if kind == "cron_trigger":
        return CronTriggerTimetable(
            spec["expression"],
            timezone=tz,
            interval=delta(spec.get("interval")),
            run_immediately=run_immediately(spec.get("run_immediately", False)),
        )
    if kind == "multi_cron":
        return MultipleCronTriggerTimetable(
            *spec["expressions"], timezone=tz, interval=delta(spec.get("interval"))
        )
    if kind == "delta_interval":
        return DeltaDataIntervalTimetable(delta(spec["delta"]))
    if kind == "delta_trigger":
        return DeltaTriggerTimetable(delta(spec["delta"]), interval=delta(spec.get("interval")))
    if kind == "once":
        return OnceTimetable()
    if kind == "continuous":
        return ContinuousTimetable()
    if kind == "none":
        return NullTimetable()
    if kind == "events":
        return EventsTimetable(
            [instant(e) for e in spec["events"]], restrict_to_events=spec.get("restrict_to_events", False)
        )
    raise ValueError(f"unknown timetable kind {kind}")


def answer(case: dict) -> dict:
    timetable = build(case["timetable"])
    restriction = TimeRestriction(instant(case["start_date"]), instant(case["end_date"]), case["catchup"])
    last = None
    if case.get("last"):
        last = DataInterval(instant(case["last"][0]), instant(case["last"][1]))
    runs = []
    with time_machine.travel(instant(case["now"]), tick=False):
        for _ in range(case["steps"]):
            info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
            if info is None:
                break
            interval = info.data_interval
            runs.append([iso(info.logical_date), iso(interval.start), iso(interval.end), iso(info.run_after)])
            last = interval
        manual = []
        for run_after in case.get("manual", []):
            interval = timetable.infer_manual_data_interval(run_after=instant(run_after))
            manual.append([iso(interval.start), iso(interval.end)])
    return {"id": case["id"], "runs": runs, "manual": manual}


def main() -> None:
    cases = json.load(sys.stdin)
    answers = []
    for case in cases:
        try:
            answers.append(answer(case))
        except Exception as exc:  # a case Airflow refuses is an answer too
            answers.append({"id": case["id"], "error": f"{type(exc).__name__}: {exc}"})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
