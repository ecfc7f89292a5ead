"""Task groups: nested, id-prefixing folders of tasks, and the ``@task_group`` decorator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.definition_context import current_dag, current_group, pop_group, push_group
from tradewind.sdk.dependencies import DependencyMixin
from tradewind.sdk.errors import DagDefinitionError, DuplicateTaskIdError
from tradewind.sdk.expand_input import ExpandInput, MappedArgument
from tradewind.sdk.naming import unique_label, validate_id

if TYPE_CHECKING:
    from tradewind.sdk.dag import DAG

P = ParamSpec("P")
R = TypeVar("R")


class TaskGroup(DependencyMixin):
    """``with TaskGroup("extract"):`` prefixes the ids of the tasks inside with ``extract.``.

    ``group >> other`` connects the group's leaves (tasks with no downstream inside it) to ``other``'s roots.
    """

    #: A group made by ``@task_group`` ``.expand()`` / ``.expand_kwargs()``: its tasks run once per map index.
    is_mapped = False

    def __init__(
        self,
        group_id: str | None,
        *,
        tooltip: str = "",
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: Mapping[str, Any] | None = None,
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        add_suffix_on_collision: bool = False,
    ) -> None:
        self.tooltip = tooltip
        self.prefix_group_id = prefix_group_id
        self.default_args: dict[str, Any] = dict(default_args or {})
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.children: dict[str, AbstractOperator | TaskGroup] = {}
        self.parent_group: TaskGroup | None = None
        self._group_id: str | None = None
        if group_id is None:  # the root group of a DAG
            if dag is None:
                raise DagDefinitionError("a root task group needs its DAG")
            self.dag = dag
            return
        validate_id(group_id, "group_id")
        parent = parent_group or current_group()
        owner = dag or (parent.dag if parent is not None else None) or current_dag()
        if owner is None:
            raise DagDefinitionError(f"task group {group_id!r} must be created inside a DAG (or pass dag=)")
        self.dag = owner
        self.parent_group = parent if parent is not None else owner.task_group
        self._group_id = group_id
        if add_suffix_on_collision:
            self._group_id = self._unique_label(group_id)
        self.parent_group.add(self)

    def _unique_label(self, label: str) -> str:
        taken = set(self.dag.task_group_dict) | set(self.dag.task_dict)
        assert self.parent_group is not None
        return unique_label(label, taken, self.parent_group.child_id)

    # -- identity -------------------------------------------------------------------------------------

    @property
    def group_id(self) -> str | None:
        parent = self.parent_group
        if parent is not None and parent.prefix_group_id and parent._group_id is not None:
            return parent.child_id(self._group_id or "")
        return self._group_id

    @property
    def label(self) -> str | None:
        return self._group_id

    @property
    def is_root(self) -> bool:
        return self._group_id is None

    def child_id(self, label: str) -> str:
        """The full id of a task or group created directly inside this group."""
        if self.prefix_group_id:
            group_id = self.group_id
            if group_id:
                return f"{group_id}.{label}"
        return label

    def add(self, node: AbstractOperator | TaskGroup) -> None:
        key = node.group_id if isinstance(node, TaskGroup) else node.task_id
        assert key is not None
        dag_id = self.dag.dag_id
        if isinstance(node, TaskGroup):
            if key in self.dag.task_group_dict or key in self.dag.task_dict:
                raise DuplicateTaskIdError(
                    f"DAG {dag_id!r}: group id {key!r} is already used by a task or group", dag_id=dag_id
                )
            self.dag.register_task_group(node)
        elif key in self.children:
            raise DuplicateTaskIdError(
                f"DAG {dag_id!r}: task group {self.group_id!r} already has a child {key!r}", dag_id=dag_id
            )
        self.children[key] = node

    # -- context manager ------------------------------------------------------------------------------

    def __enter__(self) -> TaskGroup:
        push_group(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pop_group(self)

    # -- contents and edges ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[AbstractOperator]:
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    def iter_groups(self) -> Iterator[TaskGroup]:
        """Every group nested inside this one, depth first."""
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield child
                yield from child.iter_groups()

    @property
    def roots(self) -> list[AbstractOperator]:
        tasks = list(self)
        ids = {t.task_id for t in tasks}
        return [t for t in tasks if t.upstream_task_ids.isdisjoint(ids)]

    @property
    def leaves(self) -> list[AbstractOperator]:
        """Tasks with no downstream inside the group; a teardown leaf stands for the work before it (so
        ``group >> next`` does not wait on cleanup), as in Airflow."""
        tasks = list(self)
        by_id = {t.task_id: t for t in tasks}
        found: dict[str, AbstractOperator] = {}

        def feeds_other_work(task: AbstractOperator, exclude: str) -> bool:
            return any(
                d != exclude and d in by_id and not by_id[d].is_teardown for d in task.downstream_task_ids
            )

        def work_before(teardown: AbstractOperator, seen: set[str]) -> None:
            for up_id in sorted(teardown.upstream_task_ids):
                up = by_id.get(up_id)
                if up is None or up_id in seen:
                    continue
                seen.add(up_id)
                if up.is_teardown:
                    work_before(up, seen)
                elif up.is_setup:
                    continue  # never through the setup -> teardown edge
                elif not feeds_other_work(up, teardown.task_id):
                    found.setdefault(up_id, up)

        for task in tasks:
            if not task.downstream_task_ids.isdisjoint(by_id):
                continue
            if task.is_teardown:
                work_before(task, set())
            else:
                found.setdefault(task.task_id, task)
        return list(found.values())

    def dependency_roots(self) -> list[AbstractOperator]:
        return self.roots

    def dependency_leaves(self) -> list[AbstractOperator]:
        return self.leaves

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id}>"


class MappedTaskGroup(TaskGroup):
    """A task group whose every task runs once per element of ``expand_input`` (map index i of each task
    belongs to group instance i); tasks downstream of the group wait for all instances."""

    is_mapped = True

    def __init__(self, group_id: str, *, expand_input: ExpandInput, **options: Any) -> None:
        super().__init__(group_id, **options)
        self.expand_input = expand_input
        outer = self.parent_group
        while outer is not None:
            if outer.is_mapped:
                raise DagDefinitionError(
                    f"task group {self.group_id!r}: a mapped task group inside the mapped task group "
                    f"{outer.group_id!r} is not supported by Tradewind"
                )
            outer = outer.parent_group

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            # The tasks giving the expansion's values run before every root of the group.
            for upstream, _key in self.expand_input.iter_references():
                upstream.set_downstream(self)


class _TaskGroupFactory(Generic[P, R]):
    """What ``@task_group`` returns: calling it builds a group and runs the function inside it."""

    def __init__(self, function: Callable[P, R], options: dict[str, Any]) -> None:
        self.function = function
        self.options = options
        self.partial_kwargs: dict[str, Any] = {}
        functools.update_wrapper(self, function)

    def override(self, **options: Any) -> _TaskGroupFactory[P, R]:
        return _TaskGroupFactory(self.function, {**self.options, **options})

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self._build(None, *args, **kwargs)

    def partial(self, **kwargs: Any) -> _TaskGroupFactory[P, R]:
        """Arguments every instance of the expanded group shares; follow with ``.expand`` or
        ``.expand_kwargs``."""
        self._check_names("partial", kwargs)
        for name in kwargs:
            if name in self.partial_kwargs:
                raise DagDefinitionError(f"task group {self._name()!r}: partial() got {name!r} twice")
        factory: _TaskGroupFactory[P, R] = _TaskGroupFactory(self.function, self.options)
        factory.partial_kwargs = {**self.partial_kwargs, **kwargs}
        return factory

    def expand(self, **mapped: Any) -> Any:
        """One instance of the group per element of the mapped argument(s) (the cross product)."""
        self._check_names("expand", mapped)
        for name in mapped:
            if name in self.partial_kwargs:
                raise DagDefinitionError(
                    f"task group {self._name()!r}: argument {name!r} is given to both partial() and expand()"
                )
        expand_input = ExpandInput(mapped, kind="dict", where=f"task group {self._name()!r}")
        return self._build(expand_input, **{name: MappedArgument(expand_input, name) for name in mapped})

    def expand_kwargs(self, kwargs: Any) -> Any:
        """One instance of the group per dict of ``kwargs`` (a list of dicts, or an XComArg resolving to
        one); each dict gives that instance's arguments."""
        params = inspect.signature(self.function).parameters.values()
        if any(p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD) for p in params):
            raise DagDefinitionError(
                f"task group {self._name()!r}: expand_kwargs() needs a function without *args or **kwargs"
            )
        expand_input = ExpandInput(kwargs, kind="list", where=f"task group {self._name()!r}")
        names = [p.name for p in params if p.name not in self.partial_kwargs]
        return self._build(expand_input, **{name: MappedArgument(expand_input, name) for name in names})

    def _name(self) -> str:
        return str(self.options.get("group_id") or self.function.__name__)

    def _check_names(self, call: str, names: Mapping[str, Any]) -> None:
        params = inspect.signature(self.function).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        unknown = sorted(set(names) - set(params))
        if unknown:
            raise DagDefinitionError(
                f"task group {self._name()!r}: {call}() got unknown argument(s): " + ", ".join(unknown)
            )

    def _build(self, expand_input: ExpandInput | None, *args: Any, **kwargs: Any) -> Any:
        options = dict(self.options)
        group_id = options.pop("group_id", None) or self.function.__name__
        options.setdefault("tooltip", (self.function.__doc__ or "").strip())
        options.setdefault("add_suffix_on_collision", True)
        if expand_input is not None:
            kwargs = {**self.partial_kwargs, **kwargs}
        group: TaskGroup
        group = (
            TaskGroup(group_id, **options)
            if expand_input is None
            else MappedTaskGroup(group_id, expand_input=expand_input, **options)
        )
        with group:
            result = self.function(*args, **kwargs)
        # A returned task lets `start >> my_group() >> end` bind to it, as in Airflow.
        return result if result is not None else group


@overload
def task_group(python_callable: Callable[P, R]) -> _TaskGroupFactory[P, R]: ...
@overload
def task_group(
    python_callable: None = None, **options: Any
) -> Callable[[Callable[P, R]], _TaskGroupFactory[P, R]]: ...
def task_group(python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
    """``@task_group`` or ``@task_group(group_id=..., tooltip=..., default_args=...)``."""
    if python_callable is not None:
        return _TaskGroupFactory(python_callable, options)
    return lambda function: _TaskGroupFactory(function, options)
