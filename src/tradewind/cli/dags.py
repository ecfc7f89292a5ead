"""`tradewind dags ...`: list, trigger, pause, test, backfill and delete DAGs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from tradewind.actions import dag_actions
from tradewind.actions.actor import CommandLineUser
from tradewind.cli import check_airflow
from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.cli.store_access import StoreAccess, open_store
from tradewind.core.clock import as_utc, utcnow
from tradewind.core.redaction import redact
from tradewind.core.states import FINISHED_DAG_RUN_STATES, DagRunState, DagRunType
from tradewind.plugins.registry import ensure_plugins_loaded
from tradewind.sdk.errors import ConflictError, ParamValidationError, TradewindError
from tradewind.sdk.schedules import DataInterval, next_dagrun, timetable_from_dict
from tradewind.store import dag_runs, dags, import_errors
from tradewind.store.engine import transaction
from tradewind.store.new_runs import create_run
from tradewind.store.wakeup import ring

#: How often `--wait` looks at the run's state.
WAIT_POLL_SECONDS = 0.05


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("dags", help="List, trigger, pause, test and backfill DAGs")
    cmds = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = cmds.add_parser("list", help="List DAGs")
    add_output_flag(p)
    p.add_argument("--include-inactive", action="store_true", help="also DAGs whose file is gone or no longer defines them")
    p.set_defaults(handler=_list)

    p = cmds.add_parser("list-runs", help="List runs of a DAG")
    p.add_argument("dag_id", nargs="?", help="only the runs of this DAG (default: every DAG)")
    p.add_argument("-d", "--dag-id", dest="dag_id_opt", help="the same as the positional DAG_ID (Airflow's spelling)")
    p.add_argument("--state", choices=[s.value for s in DagRunState], help="only runs in this state")
    p.add_argument("--limit", type=int, default=100, help="at most this many runs, newest first (default: 100)")
    add_output_flag(p)
    p.set_defaults(handler=_list_runs)

    p = cmds.add_parser("list-import-errors", help="List DAG files that failed to import")
    add_output_flag(p)
    p.set_defaults(handler=_list_import_errors)

    p = cmds.add_parser("trigger", help="Trigger a run; prints its run id")
    p.add_argument("dag_id", help="the DAG to trigger")
    p.add_argument("-c", "--conf", help="run configuration as a JSON object")
    p.add_argument("-r", "--run-id", help="the new run's id (default: manual__<logical date>)")
    p.add_argument("-l", "--logical-date", type=_parse_date, help="ISO date or datetime (default: now)")
    p.add_argument("--wait", action="store_true", help="wait for the run to finish; exit 0 only on success")
    p.add_argument("--timeout", type=float, default=None, help="with --wait: give up after this many seconds")
    p.set_defaults(handler=_trigger)

    for name, paused in (("pause", True), ("unpause", False)):
        p = cmds.add_parser(name, help=f"{name.capitalize()} a DAG")
        p.add_argument("dag_id", help=f"the DAG to {name}")
        p.set_defaults(handler=_set_paused, paused=paused)

    p = cmds.add_parser("test", help="Run a DAG once in this process and print each task's state")
    p.add_argument("dag_id", help="the DAG to test")
    p.add_argument("logical_date", nargs="?", type=_parse_date, help="ISO date or datetime (default: now)")
    p.add_argument("-c", "--conf", help="the run's conf as a JSON object")
    p.set_defaults(handler=_test)

    p = cmds.add_parser("backfill", help="Create runs for every interval between two dates")
    p.add_argument("dag_id", help="the DAG to backfill")
    p.add_argument("-s", "--start-date", type=_parse_date, required=True, help="first logical date (ISO)")
    p.add_argument("-e", "--end-date", type=_parse_date, required=True, help="last logical date (ISO), included")
    p.add_argument("--wait", action="store_true", help="wait for the runs; exit 0 only if all succeed")
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds (default: wait)")
    p.set_defaults(handler=_backfill)

    p = cmds.add_parser(
        "run-callback",
        help="Run one DAG-level callback the scheduler asked for (what the DAG processor starts)",
    )
    p.add_argument("request_id", type=int, help="the id of the stored DAG callback request")
    p.set_defaults(handler=_run_callback)

    check_airflow.add_command(cmds)

    p = cmds.add_parser("delete", help="Delete all metadata of a DAG (runs, task instances, XComs)")
    p.add_argument("dag_id", help="the DAG whose metadata to delete")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=_delete)


def _run_callback(args: argparse.Namespace) -> int:
    from tradewind.config.settings import load_settings
    from tradewind.runner.dag_callback import run_dag_callback

    return run_dag_callback(load_settings(), args.request_id)


def _parse_date(text: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date: {text!r}") from None


def _parse_conf(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamValidationError(f"--conf is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(conf, dict):
        raise ParamValidationError("--conf must be a JSON object")
    return conf


def _list(args: argparse.Namespace) -> int:
    store = open_store()
    with store.sessions() as session:
        rows, _ = dags.list_dags(session=session, only_active=not args.include_inactive)
        out = [
            {
                "dag_id": d.dag_id,
                "filename": d.relative_fileloc or d.fileloc,
                "fileloc": d.fileloc,
                "owners": ", ".join(d.owners or []),
                "is_paused": d.is_paused,
                "is_active": d.is_active,
                "schedule": d.schedule_description,
                "next_dagrun": d.next_dagrun,
            }
            for d in rows
        ]
    columns = ["dag_id", "filename", "owners", "is_paused", "schedule", "next_dagrun"]
    if args.output != "table":
        columns += ["fileloc", "is_active"]
    print_rows(out, columns, args.output)
    return 0


def _run_row(r: Any) -> dict[str, Any]:
    return {
        "dag_id": r.dag_id,
        "run_id": r.run_id,
        "state": r.state,
        "run_type": r.run_type,
        "logical_date": r.logical_date,
        "start_date": r.start_date,
        "end_date": r.end_date,
        "conf": redact(r.conf),
    }


def _list_runs(args: argparse.Namespace) -> int:
    dag_id = args.dag_id or args.dag_id_opt
    store = open_store()
    with store.sessions() as session:
        if dag_id:
            dags.get_dag(session=session, dag_id=dag_id)
        rows, _ = dag_runs.list_dag_runs(
            session=session, dag_id=dag_id, states=[args.state] if args.state else None, limit=args.limit
        )
        out = [_run_row(r) for r in rows]
    columns = ["dag_id", "run_id", "state", "run_type", "logical_date", "start_date", "end_date"]
    print_rows(out, columns if args.output == "table" else [*columns, "conf"], args.output)
    return 0


def _list_import_errors(args: argparse.Namespace) -> int:
    store = open_store()
    with store.sessions() as session:
        rows, _ = import_errors.list_import_errors(session=session)
        out = [
            {"filename": e.filename, "lineno": e.lineno, "error": e.message, "timestamp": e.timestamp}
            for e in rows
        ]
    print_rows(out, ["filename", "lineno", "error"], args.output)
    return 0


def _trigger(args: argparse.Namespace) -> int:
    conf = _parse_conf(args.conf)
    store = open_store()
    ensure_plugins_loaded(store.settings)  # a plugin's timetable rebuilds the DAG's schedule
    run_id = dag_actions.trigger(
        store.sessions,
        CommandLineUser.current(),
        dag_id=args.dag_id,
        conf=conf,
        run_id=args.run_id,
        logical_date=args.logical_date,
        allowed_run_id_pattern=store.settings.scheduler.allowed_run_id_pattern,
    ).run_id
    print(run_id)
    sys.stdout.flush()
    if not args.wait:
        return 0
    states = wait_for_runs(store, args.dag_id, [run_id], args.timeout)
    print(f"{run_id}: {states[run_id]}", file=sys.stderr)
    return 0 if states[run_id] == DagRunState.SUCCESS else 1


def wait_for_runs(
    store: StoreAccess, dag_id: str, run_ids: list[str], timeout: float | None
) -> dict[str, str]:
    """Poll until every run has finished (or the timeout passes); returns their states."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with store.sessions() as session:
            states = {
                rid: dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=rid).state for rid in run_ids
            }
        if all(s in FINISHED_DAG_RUN_STATES for s in states.values()):
            return states
        if deadline is not None and time.monotonic() > deadline:
            raise TradewindError(f"runs of {dag_id} still not finished after {timeout:g} s: {states}")
        time.sleep(WAIT_POLL_SECONDS)


def _set_paused(args: argparse.Namespace) -> int:
    store = open_store()
    dag_actions.set_paused(store.sessions, CommandLineUser.current(), dag_id=args.dag_id, is_paused=args.paused)
    print(f"{args.dag_id}: {'paused' if args.paused else 'unpaused'}")
    return 0


def _backfill(args: argparse.Namespace) -> int:
    if args.end_date < args.start_date:
        raise ParamValidationError("--end-date is before --start-date")
    store = open_store()
    ensure_plugins_loaded(store.settings)  # a plugin's timetable rebuilds the DAG's schedule
    now = utcnow()
    run_ids: list[str] = []
    with transaction(store.sessions) as session:
        sdag = dags.get_serialized_dag(session=session, dag_id=args.dag_id)
        timetable = timetable_from_dict(sdag.timetable)
        if not timetable.periodic:
            raise ConflictError(f"DAG {args.dag_id!r} has no periodic schedule to backfill")
        last: DataInterval | None = None
        while True:
            info = next_dagrun(
                timetable,
                last_interval=last, start_date=args.start_date, end_date=args.end_date, catchup=True, now=now
            )
            if info is None or info.logical_date > args.end_date:
                break
            try:
                with session.begin_nested():
                    run = create_run(
                        session=session,
                        sdag=sdag,
                        run_type=DagRunType.BACKFILL,
                        logical_date=info.logical_date,
                        data_interval=info.data_interval,
                        now=now,
                        triggered_by="backfill",
                    )
                run_ids.append(run.run_id)
            except ConflictError:
                print(f"skipping {info.logical_date.isoformat()}: a run exists already", file=sys.stderr)
            last = info.data_interval
        if run_ids:
            ring(session)  # the scheduler starts the backfill's runs as soon as this commits
    for rid in run_ids:
        print(rid)
    if not args.wait:
        return 0
    states = wait_for_runs(store, args.dag_id, run_ids, args.timeout)
    return 0 if all(s == DagRunState.SUCCESS for s in states.values()) else 1


def _test(args: argparse.Namespace) -> int:
    from tradewind.cli.dag_test import run_dag_test

    return run_dag_test(args.dag_id, logical_date=args.logical_date, conf=_parse_conf(args.conf))


def _delete(args: argparse.Namespace) -> int:
    if not args.yes:
        answer = input(f"Delete all metadata of DAG {args.dag_id!r}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("aborted")
            return 1
    store = open_store()
    runs = dag_actions.delete_dag(store.sessions, CommandLineUser.current(), dag_id=args.dag_id)
    print(f"deleted DAG {args.dag_id} and {runs} run(s)")
    return 0
