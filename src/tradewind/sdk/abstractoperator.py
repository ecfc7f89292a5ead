"""What every task node shares, plain or mapped: its id, DAG, group, edges, relatives and priority."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tradewind.sdk.definition_context import DefinitionSite, is_detached
from tradewind.sdk.dependencies import DependencyMixin
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.setup_teardown import enter_scope, exit_scope, mark_teardown
from tradewind.sdk.xcom_arg import XComArg

if TYPE_CHECKING:
    from tradewind.sdk.dag import DAG
    from tradewind.sdk.taskgroup import TaskGroup

WEIGHT_RULES = ("downstream", "upstream", "absolute")


class AbstractOperator(DependencyMixin):
    """A node of a DAG. ``BaseOperator`` and ``MappedOperator`` fill in the task settings."""

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()
    template_fields_renderers: dict[str, str] = {}
    ui_color: str = "#fff"
    is_mapped: bool = False
    _is_setup: bool = False
    _is_teardown: bool = False
    _on_failure_fail_dagrun: bool = False
    _task_display_name: str | None = None

    # Declared here so code working on any node is typed; set by the subclasses.
    task_id: str
    owner: str
    retries: int | None
    retry_delay: timedelta
    retry_exponential_backoff: bool
    max_retry_delay: timedelta | None
    execution_timeout: timedelta | None
    trigger_rule: str
    pool: str
    pool_slots: int
    priority_weight: int
    weight_rule: str
    queue: str
    depends_on_past: bool
    executor_config: dict[str, Any]
    do_xcom_push: bool
    multiple_outputs: bool
    doc_md: str | None
    params: dict[str, Any]
    on_failure_callback: Any
    on_success_callback: Any
    on_retry_callback: Any

    def _init_node(self, task_id: str, task_group: TaskGroup | None, site: DefinitionSite | None) -> None:
        self.task_id = task_id
        self.task_group = task_group
        self.definition_site = site
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self._dag: DAG | None = None

    # -- DAG membership -------------------------------------------------------------------------------

    def has_dag(self) -> bool:
        return self._dag is not None

    @property
    def dag(self) -> DAG:
        if self._dag is None:
            raise DagDefinitionError(f"task {self.task_id!r} is not assigned to a DAG")
        return self._dag

    @dag.setter
    def dag(self, dag: DAG) -> None:
        if self._dag is dag:
            return
        if self._dag is not None:
            raise DagDefinitionError(
                f"task {self.task_id!r} already belongs to DAG {self._dag.dag_id!r}; "
                f"it cannot move to DAG {dag.dag_id!r}"
            )
        dag.add_task(self)

    @property
    def dag_id(self) -> str | None:
        return self._dag.dag_id if self._dag is not None else None

    @property
    def task_display_name(self) -> str:
        """The name the UI shows: ``task_display_name`` if given, else the task id."""
        return self._task_display_name or self.task_id

    @property
    def label(self) -> str:
        """The task id as written, without the task group prefix."""
        prefix = self.task_group.child_id("") if self.task_group is not None else ""
        return self.task_id[len(prefix) :] if prefix and self.task_id.startswith(prefix) else self.task_id

    @property
    def output(self) -> XComArg:
        return XComArg(self)

    def closest_mapped_group(self) -> TaskGroup | None:
        """The innermost mapped task group this task is in (it then runs once per map index of it)."""
        group = self.task_group
        while group is not None:
            if group.is_mapped:
                return group
            group = group.parent_group
        return None

    # -- setup and teardown ---------------------------------------------------------------------------

    @property
    def is_setup(self) -> bool:
        """A setup task creates what its work tasks use; its teardowns remove it."""
        return self._is_setup

    @is_setup.setter
    def is_setup(self, value: bool) -> None:
        if value and self._is_teardown:
            raise DagDefinitionError(f"task {self.task_id!r} is a teardown; it cannot also be a setup")
        self._is_setup = bool(value)

    @property
    def is_teardown(self) -> bool:
        """A teardown runs once its upstream work is done, whatever its outcome, if a setup succeeded."""
        return self._is_teardown

    @is_teardown.setter
    def is_teardown(self, value: bool) -> None:
        if value and self._is_setup:
            raise DagDefinitionError(f"task {self.task_id!r} is a setup; it cannot also be a teardown")
        self._is_teardown = bool(value)

    @property
    def on_failure_fail_dagrun(self) -> bool:
        """A teardown's failure fails the DAG run only with this set (teardowns are left out otherwise)."""
        return self._on_failure_fail_dagrun

    @on_failure_fail_dagrun.setter
    def on_failure_fail_dagrun(self, value: bool) -> None:
        if value and not self._is_teardown:
            raise DagDefinitionError(
                f"task {self.task_id!r}: on_failure_fail_dagrun applies only to teardown tasks"
            )
        self._on_failure_fail_dagrun = bool(value)

    def as_setup(self) -> AbstractOperator:
        self.is_setup = True
        return self

    def as_teardown(
        self,
        *,
        setups: AbstractOperator | XComArg | Iterable[AbstractOperator | XComArg] | None = None,
        on_failure_fail_dagrun: bool | None = None,
    ) -> AbstractOperator:
        """Make this a teardown (trigger rule ``all_done_setup_success``) of ``setups``."""
        mark_teardown(self, setups=setups, on_failure_fail_dagrun=on_failure_fail_dagrun)
        return self

    def __enter__(self) -> AbstractOperator:
        enter_scope([self])
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        exit_scope()

    # -- edges ----------------------------------------------------------------------------------------

    def dependency_roots(self) -> list[AbstractOperator]:
        return [self]

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [self]

    @property
    def roots(self) -> list[AbstractOperator]:
        return [self]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [self]

    def add_downstream_edge(self, other: AbstractOperator) -> None:
        if is_detached():
            return
        if self._dag is not None and other._dag is not None and self._dag is not other._dag:
            raise DagDefinitionError(
                f"cannot set a dependency between task {self.task_id!r} of DAG {self._dag.dag_id!r} "
                f"and task {other.task_id!r} of DAG {other._dag.dag_id!r}"
            )
        dag = self._dag or other._dag
        if dag is None:
            raise DagDefinitionError(
                f"cannot set a dependency between tasks {self.task_id!r} and {other.task_id!r}: neither "
                "belongs to a DAG yet; create them inside `with DAG(...)` or pass dag="
            )
        for node in (self, other):
            if node._dag is None:
                dag.add_task(node)
        self.downstream_task_ids.add(other.task_id)
        other.upstream_task_ids.add(self.task_id)

    @property
    def upstream_list(self) -> list[AbstractOperator]:
        return [self.dag.task_dict[t] for t in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[AbstractOperator]:
        return [self.dag.task_dict[t] for t in sorted(self.downstream_task_ids)]

    def get_direct_relative_ids(self, upstream: bool = False) -> set[str]:
        return set(self.upstream_task_ids if upstream else self.downstream_task_ids)

    def get_flat_relative_ids(self, upstream: bool = False) -> set[str]:
        """Every ancestor (upstream=True) or descendant of this task."""
        if self._dag is None:
            return self.get_direct_relative_ids(upstream)
        tasks = self._dag.task_dict
        seen: set[str] = set()
        stack = list(self.get_direct_relative_ids(upstream))
        while stack:
            tid = stack.pop()
            if tid in seen or tid not in tasks:
                continue
            seen.add(tid)
            stack.extend(tasks[tid].get_direct_relative_ids(upstream))
        return seen

    def get_flat_relatives(self, upstream: bool = False) -> list[AbstractOperator]:
        return [self.dag.task_dict[t] for t in sorted(self.get_flat_relative_ids(upstream))]

    @property
    def priority_weight_total(self) -> int:
        """The weight the scheduler orders by: own weight plus relatives' weights per ``weight_rule``."""
        if self.weight_rule == "absolute" or self._dag is None:
            return self.priority_weight
        relatives = self.get_flat_relative_ids(upstream=self.weight_rule == "upstream")
        tasks = self._dag.task_dict
        return self.priority_weight + sum(tasks[t].priority_weight for t in relatives)

    def has_callback(self, name: str) -> bool:
        value = getattr(self, name, None)
        return bool(value) if isinstance(value, list | tuple) else value is not None

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"
