"""DAG: a workflow as authored, its schedule, defaults and tasks, and the checks that make it valid."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.dag_graph import find_cycle, topological_order
from tradewind.sdk.definition_context import caller_site, pop_dag, push_dag, register_dag
from tradewind.sdk.errors import (
    CycleError,
    DagDefinitionError,
    DuplicateTaskIdError,
    NotFoundError,
    ParamValidationError,
)
from tradewind.sdk.naming import validate_id
from tradewind.sdk.params import NOTSET, Param, as_param, params_to_spec, resolve_params
from tradewind.sdk.resolvable import DagParam
from tradewind.sdk.schedules import NullTimetable, Timetable, timetable_from_schedule
from tradewind.sdk.setup_teardown import record_task
from tradewind.sdk.taskgroup import TaskGroup
from tradewind.sdk.templating import build_environment

if TYPE_CHECKING:
    from jinja2 import Environment


def timezone_name(tz: tzinfo | None) -> str:
    """The IANA name of a start_date's time zone (fixed whole-hour offsets become ``Etc/GMT±N``)."""
    if tz is None or tz is UTC:
        return "UTC"
    for attr in ("key", "name", "zone"):  # zoneinfo, pendulum, pytz
        name = getattr(tz, attr, None)
        if isinstance(name, str) and name:
            try:
                ZoneInfo(name)
            except Exception:
                continue
            return name
    offset = tz.utcoffset(None)
    if offset is not None and offset.total_seconds() % 3600 == 0:
        hours = int(offset.total_seconds() // 3600)
        # POSIX style: Etc/GMT-2 is two hours *ahead* of UTC.
        return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    raise DagDefinitionError(
        f"start_date time zone {tz!r} has no IANA name; use zoneinfo.ZoneInfo('Area/City')"
    )


def _aware(value: datetime | None, field: str, dag_id: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DagDefinitionError(f"DAG {dag_id!r}: {field} must be a datetime, got {value!r}", dag_id=dag_id)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _one_schedule(dag_id: str, schedule: object, **older: object) -> object:
    """``schedule=``, or Airflow 2's ``schedule_interval=`` / ``timetable=`` (same meaning); never two."""
    given = {name: value for name, value in {"schedule": schedule, **older}.items() if value is not None}
    if len(given) > 1:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: pass only one of {', '.join(sorted(given))} (they mean the same: the schedule)",
            dag_id=dag_id,
        )
    return next(iter(given.values()), None)


class DAG:
    """``with DAG("etl", schedule="@daily", start_date=datetime(2024, 1, 1)):`` then create tasks inside."""

    def __init__(
        self,
        dag_id: str,
        *,
        description: str | None = None,
        schedule: object = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool = False,
        default_args: Mapping[str, Any] | None = None,
        max_active_runs: int | None = None,
        max_active_tasks: int = 16,
        dagrun_timeout: timedelta | None = None,
        tags: Iterable[str] | None = None,
        params: Mapping[str, Any] | None = None,
        doc_md: str | None = None,
        template_searchpath: str | Iterable[str] | None = None,
        user_defined_macros: Mapping[str, Any] | None = None,
        user_defined_filters: Mapping[str, Callable[..., Any]] | None = None,
        render_template_as_native_obj: bool = False,
        is_paused_upon_creation: bool | None = None,
        owner_links: Mapping[str, str] | None = None,
        on_failure_callback: Any = None,
        on_success_callback: Any = None,
        dag_display_name: str | None = None,
        schedule_interval: object = None,
        timetable: object = None,
    ) -> None:
        self.dag_id = validate_id(dag_id, "dag_id")
        schedule = _one_schedule(dag_id, schedule, schedule_interval=schedule_interval, timetable=timetable)
        self._dag_display_name = dag_display_name
        self.definition_site = caller_site()
        self.fileloc = self.definition_site.filename if self.definition_site else ""
        self.relative_fileloc = ""
        self.default_args: dict[str, Any] = dict(default_args or {})
        self.description = description
        self.doc_md = doc_md
        self.schedule = schedule
        self.start_date = _aware(start_date or self.default_args.get("start_date"), "start_date", dag_id)
        self.end_date = _aware(end_date or self.default_args.get("end_date"), "end_date", dag_id)
        self.catchup = bool(catchup)
        self.max_active_tasks = self._positive(max_active_tasks, "max_active_tasks")
        if dagrun_timeout is not None and not isinstance(dagrun_timeout, timedelta):
            raise DagDefinitionError(f"DAG {dag_id!r}: dagrun_timeout must be a timedelta", dag_id=dag_id)
        self.dagrun_timeout = dagrun_timeout
        self.tags = self._check_tags(tags)
        merged_params = {**(self.default_args.get("params") or {}), **(params or {})}
        self.params: dict[str, Param] = {name: as_param(v) for name, v in merged_params.items()}
        if isinstance(template_searchpath, str):
            template_searchpath = [template_searchpath]
        self.template_searchpath = [str(p) for p in template_searchpath or []]
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.render_template_as_native_obj = render_template_as_native_obj
        self.is_paused_upon_creation = is_paused_upon_creation
        self.owner_links = dict(owner_links or {})
        self.on_failure_callback = on_failure_callback
        self.on_success_callback = on_success_callback
        try:
            self.timezone = timezone_name(self.start_date.tzinfo if self.start_date else None)
            self.timetable: Timetable = timetable_from_schedule(schedule, self.timezone)
            self.timetable.validate()
        except DagDefinitionError as exc:
            raise DagDefinitionError(f"DAG {dag_id!r}: {exc}", dag_id=dag_id) from exc
        limit = self.timetable.active_runs_limit
        self.max_active_runs = self._positive(
            max_active_runs if max_active_runs is not None else (limit or 16), "max_active_runs"
        )
        if limit is not None and self.max_active_runs > limit:
            raise DagDefinitionError(
                f"DAG {dag_id!r}: max_active_runs must be at most {limit} with schedule "
                f"{self.timetable.summary!r}",
                dag_id=dag_id,
            )
        self.task_dict: dict[str, AbstractOperator] = {}
        #: upstream task id -> downstream task id -> edge info (``{"label": ...}``), as Airflow's edge_info.
        self.edge_info: dict[str, dict[str, dict[str, str]]] = {}
        self._task_group_dict: dict[str, TaskGroup] = {}
        self.task_group = TaskGroup(None, dag=self)

    def _positive(self, value: object, field: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: {field} must be an integer >= 1", dag_id=self.dag_id
            )
        return value

    def _check_tags(self, tags: Iterable[str] | None) -> list[str]:
        result = list(tags or [])
        for tag in result:
            if not isinstance(tag, str) or len(tag) > 100:
                raise DagDefinitionError(
                    f"DAG {self.dag_id!r}: tag {tag!r} must be a string of at most 100 characters",
                    dag_id=self.dag_id,
                )
        return result

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"

    @property
    def dag_display_name(self) -> str:
        """The name the UI shows: ``dag_display_name`` if given, else the DAG id."""
        return self._dag_display_name or self.dag_id

    # -- context manager ------------------------------------------------------------------------------

    def __enter__(self) -> DAG:
        push_dag(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pop_dag(self)
        if exc_type is None:
            register_dag(self)

    # -- tasks ----------------------------------------------------------------------------------------

    def add_task(self, task: AbstractOperator) -> None:
        existing = self.task_dict.get(task.task_id)
        if existing is task:
            return
        if existing is not None:
            raise DuplicateTaskIdError(
                f"DAG {self.dag_id!r}: task id {task.task_id!r} is used twice: by "
                f"{_describe(existing)} and by {_describe(task)}",
                dag_id=self.dag_id,
            )
        if task.task_id in self._task_group_dict:
            raise DuplicateTaskIdError(
                f"DAG {self.dag_id!r}: task id {task.task_id!r} ({_describe(task)}) "
                "is already a task group id",
                dag_id=self.dag_id,
            )
        if task.task_group is None:
            task.task_group = self.task_group
        task.task_group.add(task)
        task._dag = self
        self.task_dict[task.task_id] = task
        record_task(task)

    def add_tasks(self, tasks: Iterable[AbstractOperator]) -> None:
        for task in tasks:
            self.add_task(task)

    def register_task_group(self, group: TaskGroup) -> None:
        assert group.group_id is not None
        self._task_group_dict[group.group_id] = group

    @property
    def task_group_dict(self) -> dict[str, TaskGroup]:
        return dict(self._task_group_dict)

    @property
    def tasks(self) -> list[AbstractOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> AbstractOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise NotFoundError(
                f"DAG {self.dag_id!r} has no task {task_id!r}", kind="task", ident=task_id
            ) from None

    @property
    def roots(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.upstream_task_ids]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.downstream_task_ids]

    @property
    def owner(self) -> str:
        return ", ".join(sorted({t.owner for t in self.task_dict.values()}))

    def _downstream_map(self) -> dict[str, set[str]]:
        return {tid: t.downstream_task_ids for tid, t in self.task_dict.items()}

    def check_cycle(self) -> None:
        cycle = find_cycle(self.task_ids, self._downstream_map())
        if cycle is not None:
            raise CycleError(f"DAG {self.dag_id!r} has a cycle: {' -> '.join(cycle)}", dag_id=self.dag_id)

    def topological_sort(self) -> list[AbstractOperator]:
        """Tasks with every upstream before its downstream; ties keep the order of definition."""
        self.check_cycle()
        return [self.task_dict[t] for t in topological_order(self.task_ids, self._downstream_map())]

    def set_edge_info(self, upstream_task_id: str, downstream_task_id: str, info: Mapping[str, str]) -> None:
        """Attach information (a ``label``) to the edge between two tasks; the graph view shows it."""
        self.edge_info.setdefault(upstream_task_id, {})[downstream_task_id] = dict(info)

    def get_edge_info(self, upstream_task_id: str, downstream_task_id: str) -> dict[str, str]:
        return dict(self.edge_info.get(upstream_task_id, {}).get(downstream_task_id, {}))

    def check_setup_teardown(self) -> None:
        """A setup's direct work tasks must keep ``all_success``: clearing and skipping rely on it."""
        for task in self.task_dict.values():
            if not task.is_setup:
                continue
            for down in task.downstream_list:
                if not down.is_teardown and down.trigger_rule != "all_success":
                    raise DagDefinitionError(
                        f"DAG {self.dag_id!r}: task {down.task_id!r} ({_describe(down)}) directly downstream "
                        f"of setup task {task.task_id!r} must have trigger_rule all_success, not "
                        f"{down.trigger_rule!r}",
                        dag_id=self.dag_id,
                    )

    def validate(self) -> None:
        """Raise if the DAG cannot run: a cycle, a setup followed by a task with another trigger rule than
        all_success, or a schedule with params that have no valid default."""
        self.check_cycle()
        self.check_setup_teardown()
        if isinstance(self.timetable, NullTimetable) or not self.params:
            return
        try:
            resolve_params(params_to_spec(self.params), None)
        except ParamValidationError as exc:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r} has a schedule, so every param needs a valid default: {exc}",
                dag_id=self.dag_id,
            ) from exc

    # -- params and templates -------------------------------------------------------------------------

    def param(self, name: str, default: Any = NOTSET) -> DagParam:
        """A reference to a param, resolved when a task runs (``default`` also becomes its default)."""
        if isinstance(default, Param):
            self.params[name] = default
        elif default is not NOTSET:
            existing = self.params.get(name)
            self.params[name] = existing.with_default(default) if existing is not None else Param(default)
        elif name not in self.params:
            self.params[name] = Param()
        return DagParam(self, name)

    @property
    def folder(self) -> str:
        return str(Path(self.fileloc).parent) if self.fileloc else ""

    @cached_property
    def _template_env(self) -> Environment:
        searchpath: Sequence[str] = [p for p in [self.folder, *self.template_searchpath] if p]
        return build_environment(
            searchpath=searchpath,
            macros=self.user_defined_macros,
            filters=self.user_defined_filters,
            native=self.render_template_as_native_obj,
        )

    def get_template_env(self) -> Environment:
        """This DAG's Jinja environment: its file's folder and template_searchpath, its macros and filters."""
        return self._template_env

    def has_callback(self, name: str) -> bool:
        value = getattr(self, name, None)
        return bool(value) if isinstance(value, list | tuple) else value is not None


def _describe(task: AbstractOperator) -> str:
    site = task.definition_site
    return f"{type(task).__name__} at {site}" if site else type(task).__name__
