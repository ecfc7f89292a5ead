"""Turn an authored DAG object into its stored form, SerializedDag (data only: no code, JSON-safe)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.core.serialized_dag import (
    MappedArg,
    SerializedDag,
    SerializedParam,
    SerializedTask,
    SerializedTaskGroup,
)
from tradewind.plugins.extra_links import link_keys
from tradewind.sdk.abstractoperator import AbstractOperator
from tradewind.sdk.assets import BaseAsset, outlet_list
from tradewind.sdk.dag import DAG
from tradewind.sdk.mapped import MappedOperator
from tradewind.sdk.operators.branch import BranchMixin, ShortCircuitMixin
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.params import params_to_spec
from tradewind.sdk.schedules import timetable_to_dict
from tradewind.sdk.sensors.external_task import ExternalTaskMarker
from tradewind.sdk.taskgroup import MappedTaskGroup

_CALLBACKS = ("on_failure_callback", "on_success_callback", "on_retry_callback")
_ADDRESS = re.compile(r" (object )?at 0x[0-9a-fA-F]+")


def _repr(value: Any) -> str:
    # Memory addresses would change the content hash on every parse, rewriting an unchanged DAG.
    return _ADDRESS.sub("", repr(value))


def json_safe(value: Any, _depth: int = 0) -> Any:
    """Plain JSON data: containers recurse, ``to_dict()`` is used if present, else ``repr()`` (no address)."""
    if _depth > 50:
        return _repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, _depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        items = [json_safe(v, _depth + 1) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        try:
            return json_safe(to_dict(), _depth + 1)
        except Exception:
            pass
    return _repr(value)


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _operator_class(task: AbstractOperator) -> type:
    return task.operator_class if isinstance(task, MappedOperator) else type(task)


def _raw_templates(task: AbstractOperator) -> dict[str, Any]:
    templates: dict[str, Any] = {}
    for name in task.template_fields:
        if isinstance(task, MappedOperator):
            if name not in task.partial_kwargs:
                continue
            value = task.partial_kwargs[name]
        else:
            value = getattr(task, name, None)
        templates[name] = json_safe(value)
    return templates


def _expand(task: AbstractOperator) -> dict[str, MappedArg] | None:
    if not isinstance(task, MappedOperator):
        return None
    return _expand_args(task.expand_spec())


def _expand_args(spec: dict[str, dict[str, Any]]) -> dict[str, MappedArg]:
    return {name: _mapped_arg(arg) for name, arg in spec.items()}


def _mapped_arg(spec: dict[str, Any]) -> MappedArg:
    kind = spec["kind"]
    if kind == "xcom":
        return MappedArg(kind="xcom", task_id=spec["task_id"], key=spec["key"])
    if kind == "literal":
        return MappedArg(kind="literal", value=json_safe(spec["value"]))
    return MappedArg(
        kind=kind,
        args=[_mapped_arg(inner) for inner in spec["args"]],
        has_fillvalue=bool(spec.get("has_fillvalue", False)),
        fillvalue=json_safe(spec.get("fillvalue")),
    )


def _mapped_group_id(task: AbstractOperator) -> str | None:
    group = task.closest_mapped_group()
    return group.group_id if group is not None else None


def _task_display_name(task: AbstractOperator) -> str | None:
    if isinstance(task, MappedOperator):
        name = task.partial_kwargs.get("task_display_name")
        return str(name) if name else None
    name = task.task_display_name
    return name if name != task.task_id else None


def serialize_task(task: AbstractOperator) -> SerializedTask:
    cls = _operator_class(task)
    callbacks = {f"has_{name}": task.has_callback(name) for name in _CALLBACKS}
    extra: dict[str, Any] = {
        "weight_rule": task.weight_rule,
        "do_xcom_push": task.do_xcom_push,
        "multiple_outputs": task.multiple_outputs,
        "template_fields_renderers": dict(task.template_fields_renderers),
    }
    custom_name = getattr(cls, "custom_operator_name", None)
    if custom_name:
        extra["custom_operator_name"] = custom_name
    is_short_circuit = issubclass(cls, ShortCircuitMixin)
    if is_short_circuit:
        ignore = (
            task.partial_kwargs.get("ignore_downstream_trigger_rules", True)
            if isinstance(task, MappedOperator)
            else getattr(task, "ignore_downstream_trigger_rules", True)
        )
        extra["ignore_downstream_trigger_rules"] = bool(ignore)
    marker = _external_marker(task)
    if marker is not None:
        extra["external_marker"] = marker
    outlets = _asset_conditions(task, "outlets")
    if outlets:
        extra["outlets"] = outlets
    inlets = _asset_conditions(task, "inlets")
    if inlets:
        extra["inlets"] = inlets
    group = task.task_group
    return SerializedTask(
        task_id=task.task_id,
        operator=custom_name or cls.__name__,
        operator_module=cls.__module__,
        upstream=sorted(task.upstream_task_ids),
        downstream=sorted(task.downstream_task_ids),
        trigger_rule=str(task.trigger_rule),
        retries=task.retries,
        retry_delay=task.retry_delay.total_seconds(),
        retry_exponential_backoff=task.retry_exponential_backoff,
        max_retry_delay=_seconds(task.max_retry_delay),
        execution_timeout=_seconds(task.execution_timeout),
        pool=task.pool,
        pool_slots=task.pool_slots,
        priority_weight=task.priority_weight_total,
        queue=task.queue,
        depends_on_past=task.depends_on_past,
        executor_config=json_safe(task.executor_config),
        template_fields=list(task.template_fields),
        templates=_raw_templates(task),
        task_group=group.group_id if group is not None and not group.is_root else None,
        owner=task.owner,
        doc_md=task.doc_md,
        ui_color=task.ui_color,
        expand=_expand(task),
        expand_kwargs=isinstance(task, MappedOperator) and task.is_expand_kwargs,
        mapped_group=_mapped_group_id(task),
        is_branch=issubclass(cls, BranchMixin),
        is_short_circuit=is_short_circuit,
        is_empty=(
            issubclass(cls, EmptyOperator)
            and not task.is_mapped
            and not any(callbacks.values())
            and not outlets
        ),
        is_setup=task.is_setup,
        is_teardown=task.is_teardown,
        on_failure_fail_dagrun=task.on_failure_fail_dagrun,
        task_display_name=_task_display_name(task),
        extra_links=link_keys(task),
        **callbacks,
        **extra,
    )


def _external_marker(task: AbstractOperator) -> dict[str, Any] | None:
    """What clearing an ExternalTaskMarker also clears (the scheduler and API never import DAG files)."""
    if not isinstance(task, ExternalTaskMarker):
        return None
    return {
        "dag_id": task.external_dag_id,
        "task_id": task.external_task_id,
        "recursion_depth": task.recursion_depth,
    }


def _asset_conditions(task: AbstractOperator, name: str) -> list[dict[str, Any]]:
    """A task's inlets or outlets in the stored condition form (assets, aliases, references)."""
    if isinstance(task, MappedOperator):
        values = outlet_list(task.partial_kwargs.get(name), f"task {task.task_id!r}")
    else:
        values = getattr(task, name, None) or []
    return [value.to_condition() for value in values if isinstance(value, BaseAsset)]


def _task_groups(dag: DAG) -> dict[str, SerializedTaskGroup]:
    groups: dict[str, SerializedTaskGroup] = {}
    for group in dag.task_group.iter_groups():
        assert group.group_id is not None
        parent = group.parent_group
        groups[group.group_id] = SerializedTaskGroup(
            group_id=group.group_id,
            parent=parent.group_id if parent is not None and not parent.is_root else None,
            tooltip=group.tooltip,
            children=list(group.children),
            expand=_expand_args(group.expand_input.spec()) if isinstance(group, MappedTaskGroup) else None,
            expand_kwargs=isinstance(group, MappedTaskGroup) and group.expand_input.kind == "list",
        )
    return groups


def _edge_info(dag: DAG) -> dict[str, dict[str, dict[str, str]]]:
    """Edge info of the edges that exist, keys and values as strings."""
    result: dict[str, dict[str, dict[str, str]]] = {}
    for up, downs in sorted(dag.edge_info.items()):
        task = dag.task_dict.get(up)
        if task is None:
            continue
        for down, info in sorted(downs.items()):
            if down in task.downstream_task_ids and info:
                result.setdefault(up, {})[down] = {str(k): str(v) for k, v in info.items()}
    return result


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def serialize_dag(dag: DAG, *, fileloc: str, relative_fileloc: str) -> SerializedDag:
    """The stored form of ``dag``. Raises CycleError for a DAG with a cycle; tasks in topological order."""
    tasks = [serialize_task(task) for task in dag.topological_sort()]
    extra: dict[str, Any] = {"owner_links": dict(dag.owner_links)}
    params = {name: SerializedParam.model_validate(spec) for name, spec in params_to_spec(dag.params).items()}
    return SerializedDag(
        dag_id=dag.dag_id,
        fileloc=fileloc,
        relative_fileloc=relative_fileloc,
        description=dag.description,
        doc_md=dag.doc_md,
        tags=list(dag.tags),
        owners=sorted({task.owner for task in tasks}),
        timetable=timetable_to_dict(dag.timetable),
        schedule_description=dag.timetable.description,
        timezone=dag.timezone,
        start_date=_utc(dag.start_date),
        end_date=_utc(dag.end_date),
        catchup=dag.catchup,
        max_active_runs=dag.max_active_runs,
        max_active_tasks=dag.max_active_tasks,
        dagrun_timeout=_seconds(dag.dagrun_timeout),
        is_paused_upon_creation=dag.is_paused_upon_creation,
        params=params,
        render_template_as_native_obj=dag.render_template_as_native_obj,
        tasks=tasks,
        task_groups=_task_groups(dag),
        has_on_failure_callback=dag.has_callback("on_failure_callback"),
        has_on_success_callback=dag.has_callback("on_success_callback"),
        dag_display_name=dag.dag_display_name if dag.dag_display_name != dag.dag_id else None,
        edge_info=_edge_info(dag),
        **extra,
    )
