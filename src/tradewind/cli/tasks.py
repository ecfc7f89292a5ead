"""`tradewind tasks`: run one try (the runner command), test a task, list tasks, show states, clear, logs."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.sdk.errors import NotFoundError, ParamValidationError

#: Keys of `tasks states-for-dag-run -o json`, as Airflow's.
STATE_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "state", "start_date", "end_date", "try_number")
LIST_JSON_COLUMNS = (
    "dag_id",
    "task_id",
    "operator",
    "task_group",
    "trigger_rule",
    "retries",
    "is_mapped",
    "upstream_task_ids",
    "downstream_task_ids",
)
LIST_COLUMNS = (
    "dag_id",
    "task_id",
    "operator",
    "task_group",
    "trigger_rule",
    "retries",
    "downstream_task_ids",
)


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("tasks", help="List, run, test, clear tasks and read their logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="Run one task try (what every executor starts)")
    _add_ti_arguments(run)
    run.add_argument("--try-number", type=int, default=None, help="the queued try to run (default: current)")
    run.add_argument("--subdir", default=None, help="the DAG file, relative to the DAG folder")
    run.set_defaults(handler=_run)

    test = commands.add_parser("test", help="Run one task in this process, without the scheduler or state")
    test.add_argument("dag_id", help="the DAG of the task")
    test.add_argument("task_id", help="the task to run")
    test.add_argument("logical_date", nargs="?", default=None, help="ISO date or datetime (default: now)")
    test.add_argument("--task-params", default=None, help="JSON object merged into the params")
    test.add_argument("--map-index", type=int, default=-1, help="the mapped instance (default: -1, not mapped)")
    test.add_argument("--subdir", default=None, help="the DAG file or folder, relative to the DAG folder")
    test.set_defaults(handler=_test)

    listing = commands.add_parser("list", help="List the tasks of a DAG")
    listing.add_argument("dag_id", help="the DAG whose tasks to list")
    listing.add_argument("--tree", action="store_true", help="show the tasks as a tree of dependencies")
    add_output_flag(listing)
    listing.set_defaults(handler=_list)

    states = commands.add_parser("states-for-dag-run", help="Task instance states of one DAG run")
    states.add_argument("dag_id", help="the DAG of the run")
    states.add_argument("run_id", help="the run")
    add_output_flag(states)
    states.set_defaults(handler=_states)

    clear = commands.add_parser("clear", help="Clear task instances so they run again")
    clear.add_argument("dag_id", help="the DAG whose task instances to clear")
    clear.add_argument("-t", "--task-regex", default=None, help="only tasks whose id matches this regex")
    clear.add_argument("--run-id", default=None, help="only this run (default: every run of the DAG)")
    clear.add_argument("-d", "--downstream", action="store_true", help="also clear downstream tasks")
    clear.add_argument("-f", "--only-failed", action="store_true", help="only failed and upstream_failed")
    clear.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    clear.set_defaults(handler=_clear)

    logs = commands.add_parser("logs", help="Print the log of a task try")
    _add_ti_arguments(logs)
    logs.add_argument("--try-number", type=int, default=None, help="default: the latest try")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the try has ended")
    logs.set_defaults(handler=_logs)


def _add_ti_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dag_id", help="the DAG of the task")
    parser.add_argument("task_id", help="the task")
    parser.add_argument("run_id", help="the DAG run")
    parser.add_argument("--map-index", type=int, default=-1, help="the mapped instance (default: -1, not mapped)")


# -- run and test ---------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from tradewind.config.settings import load_settings
    from tradewind.core.workload import ExecuteTask
    from tradewind.runner.run_workload import run_task

    workload = ExecuteTask(
        dag_id=args.dag_id,
        task_id=args.task_id,
        run_id=args.run_id,
        map_index=args.map_index,
        # 0: the try the task instance is at (queued), looked up by the runner.
        try_number=args.try_number or 0,
        dag_rel_path=args.subdir or "",
    )
    return run_task(load_settings(), workload)


def _test(args: argparse.Namespace) -> int:
    from tradewind.config.settings import load_settings
    from tradewind.runner.dry_run import run_task_in_process

    params: dict[str, Any] = {}
    if args.task_params:
        try:
            params = json.loads(args.task_params)
        except ValueError as exc:
            raise ParamValidationError(
                f"--task-params is not valid JSON: {exc}", param="task_params"
            ) from None
        if not isinstance(params, dict):
            raise ParamValidationError("--task-params must be a JSON object", param="task_params")
    return run_task_in_process(
        load_settings(),
        dag_id=args.dag_id,
        task_id=args.task_id,
        logical_date=_parse_date(args.logical_date) if args.logical_date else None,
        task_params=params,
        map_index=args.map_index,
        subdir=args.subdir,
    )


def _parse_date(text: str) -> datetime:
    from tradewind.core.clock import as_utc

    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ParamValidationError(
            f"logical date {text!r} is not an ISO date or datetime", param="logical_date"
        ) from None


# -- store-only commands ----------------------------------------------------------------------------------


@contextmanager
def _session() -> Iterator[Any]:
    """One reading transaction on the metadata database (it does not take SQLite's write lock)."""
    from tradewind.config.settings import load_settings
    from tradewind.store.engine import make_engine, make_session_factory, transaction

    engine = make_engine(load_settings().database_url, immediate=False)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _list(args: argparse.Namespace) -> int:
    from tradewind.store.dags import get_serialized_dag

    with _session() as session:
        sdag = get_serialized_dag(session=session, dag_id=args.dag_id)
    if args.tree:
        _print_tree(sdag, args.output)
        return 0
    rows: list[dict[str, Any]] = [
        {
            "dag_id": sdag.dag_id,
            "task_id": t.task_id,
            "operator": t.operator,
            "task_group": t.task_group,
            "trigger_rule": t.trigger_rule,
            "retries": t.retries or 0,
            "is_mapped": t.is_mapped,
            "upstream_task_ids": sorted(t.upstream),
            "downstream_task_ids": sorted(t.downstream),
        }
        for t in sorted(sdag.tasks, key=lambda t: t.task_id)
    ]
    if args.output == "json":
        print_rows(rows, LIST_JSON_COLUMNS, "json")
    elif args.output == "plain":
        for row in rows:
            print(row["task_id"])
    else:
        for row in rows:
            row["downstream_task_ids"] = ", ".join(row["downstream_task_ids"])
        print_rows(rows, LIST_COLUMNS[1:], "table")
    return 0


def _print_tree(sdag: Any, output: str) -> None:
    def node(task_id: str) -> dict[str, Any]:
        task = sdag.task_dict[task_id]
        return {
            "task_id": task_id,
            "operator": task.operator,
            "downstream": [node(d) for d in sorted(task.downstream)],
        }

    tree = [node(t.task_id) for t in sdag.roots()]
    if output == "json":
        json.dump(tree, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return

    def show(item: dict[str, Any], depth: int) -> None:
        print(f"{'    ' * depth}<Task({item['operator']}): {item['task_id']}>")
        for child in item["downstream"]:
            show(child, depth + 1)

    for item in tree:
        show(item, 0)


def _states(args: argparse.Namespace) -> int:
    from tradewind.core.states import ti_state_label, ti_state_or_none
    from tradewind.store.dag_runs import get_dag_run
    from tradewind.store.task_instances import list_task_instances

    with _session() as session:
        get_dag_run(session=session, dag_id=args.dag_id, run_id=args.run_id)
        tis, _ = list_task_instances(session=session, dag_id=args.dag_id, run_id=args.run_id)
        rows = [
            {
                "dag_id": ti.dag_id,
                "run_id": ti.run_id,
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": ti_state_label(ti_state_or_none(ti.state)),
                "start_date": ti.start_date,
                "end_date": ti.end_date,
                "try_number": ti.try_number,
            }
            for ti in tis
        ]
    print_rows(rows, STATE_COLUMNS, args.output)
    return 0


def _clear(args: argparse.Namespace) -> int:
    from tradewind.actions.actor import CommandLineUser
    from tradewind.actions.dag_actions import clear
    from tradewind.cli.store_access import open_store
    from tradewind.store.dag_runs import get_dag_run, list_dag_runs
    from tradewind.store.dags import get_serialized_dag
    from tradewind.store.task_instances import clear_targets

    try:
        pattern = re.compile(args.task_regex) if args.task_regex else None
    except re.error as exc:
        raise ParamValidationError(f"--task-regex {args.task_regex!r} is not a valid regex: {exc}") from None
    with _session() as session:
        sdag = get_serialized_dag(session=session, dag_id=args.dag_id)
        task_ids = {t.task_id for t in sdag.tasks if pattern is None or pattern.search(t.task_id)}
        if not task_ids:
            raise NotFoundError(f"no task of DAG {args.dag_id!r} matches {args.task_regex!r}", kind="task")
        if args.run_id:
            run_ids = [get_dag_run(session=session, dag_id=args.dag_id, run_id=args.run_id).run_id]
        else:
            runs, _ = list_dag_runs(session=session, dag_id=args.dag_id, order_by="logical_date")
            run_ids = [run.run_id for run in runs]
        selected: list[str] = []
        lines = []
        for run_id in run_ids:
            targets = clear_targets(
                session=session, sdag=sdag, run_id=run_id, task_ids=task_ids,
                include_downstream=args.downstream, only_failed=args.only_failed,
            )  # fmt: skip
            if targets:
                selected.append(run_id)
            for ti in targets:
                suffix = f"[{ti.map_index}]" if ti.map_index >= 0 else ""
                lines.append(f"  {run_id}  {ti.task_id}{suffix}  ({ti.state})")
    if not lines:
        print("No task instances to clear.")
        return 0
    print("Task instances to clear:\n" + "\n".join(lines))
    if not args.yes and not _confirm(f"Clear {len(lines)} task instance(s)? [y/N] "):
        print("Cancelled, nothing was cleared.")
        return 0
    store = open_store()
    actor = CommandLineUser.current()
    cleared = 0
    try:
        for run_id in selected:
            keys = clear(
                store.sessions, actor, sdag, run_id=run_id, task_ids=task_ids, include_downstream=args.downstream,
                only_failed=args.only_failed, source="cli",
            )  # fmt: skip
            cleared += len(keys)
    finally:
        store.engine.dispose()
    print(f"Cleared {cleared} task instance(s).")
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _logs(args: argparse.Namespace) -> int:
    from tradewind.config.settings import load_settings
    from tradewind.core.keys import TaskInstanceKey
    from tradewind.log_sources import build_log_reader
    from tradewind.logs.reading import try_is_running
    from tradewind.store.engine import make_engine, make_session_factory, transaction
    from tradewind.store.task_instances import get_task_instance

    settings = load_settings()
    key = TaskInstanceKey(args.dag_id, args.run_id, args.task_id, args.map_index)
    engine = make_engine(settings.database_url, immediate=False)
    factory = make_session_factory(engine)
    try:

        def current() -> tuple[str | None, int]:
            with transaction(factory) as session:
                ti = get_task_instance(session=session, key=key)
                return ti.state, ti.try_number

        state, latest = current()
        try_number = args.try_number or latest
        if try_number <= 0:
            raise NotFoundError(f"task instance {key} has not run yet; it has no log", kind="log")
        # The same sources as the UI and the REST API: the local file, a running pod, the remote store.
        reader = build_log_reader(settings, factory)
        if args.follow:
            reader.follow(key, try_number, sys.stdout.buffer,
                          try_running=lambda: try_is_running(*current(), try_number))  # fmt: skip
            return 0
        part = reader.read(key, try_number, token=None, running=try_is_running(state, latest, try_number), limit=-1)
        if not part.found:
            raise NotFoundError(part.note, kind="log", ident=str(key))
        sys.stdout.buffer.write(part.content.encode("utf-8"))
        sys.stdout.buffer.flush()
        return 0
    finally:
        engine.dispose()
