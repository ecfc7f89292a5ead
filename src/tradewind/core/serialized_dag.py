"""SerializedDag: the parsed, stored, versioned JSON form of a DAG.

The DAG processor builds it from user code; the scheduler, executors and webserver work only on it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradewind.core.setup_teardown import SetupTeardownIndex

SERIALIZATION_VERSION = 1


class MappedArg(BaseModel):
    """One argument of ``.expand()``: a literal list, the XCom of an upstream task (resolved at run time), or
    ``.map()`` / ``.zip()`` / ``.concat()`` of XComs (``args``; the scheduler needs only their lengths)."""

    kind: Literal["literal", "xcom", "map", "zip", "concat"]
    value: list[Any] | dict[str, Any] | None = None
    task_id: str | None = None
    key: str = "return_value"
    args: list[MappedArg] | None = None
    #: ``zip(..., fillvalue=)``: pad to the longest input instead of stopping at the shortest.
    has_fillvalue: bool = False
    fillvalue: Any = None


class SerializedTask(BaseModel):
    model_config = ConfigDict(extra="allow")

    task_id: str
    operator: str  # class name, e.g. "BashOperator"
    operator_module: str = ""
    upstream: list[str] = Field(default_factory=list)
    downstream: list[str] = Field(default_factory=list)
    trigger_rule: str = "all_success"
    retries: int | None = None  # the DAG processor resolves None to core.default_task_retries
    retry_delay: float = 300.0  # seconds
    retry_exponential_backoff: bool = False
    max_retry_delay: float | None = None  # seconds
    execution_timeout: float | None = None  # seconds
    pool: str = "default_pool"
    pool_slots: int = 1
    priority_weight: int = 1  # the effective weight (own + downstream), computed when serialising
    queue: str = "default"
    depends_on_past: bool = False
    executor_config: dict[str, Any] = Field(default_factory=dict)
    template_fields: list[str] = Field(default_factory=list)
    #: Template fields as written (unrendered), for the UI.
    templates: dict[str, Any] = Field(default_factory=dict)
    task_group: str | None = None
    owner: str = "tradewind"
    doc_md: str | None = None
    ui_color: str | None = None
    #: Mapped tasks: the arguments of ``.expand()``; None for ordinary tasks.
    expand: dict[str, MappedArg] | None = None
    #: ``.expand_kwargs()``: ``expand`` holds one entry, ``kwargs``, the list of argument dicts.
    expand_kwargs: bool = False
    #: The mapped task group the task is in: it runs once per map index of that group.
    mapped_group: str | None = None
    #: Branching operators choose among their direct downstream tasks at run time.
    is_branch: bool = False
    is_short_circuit: bool = False
    #: EmptyOperator without callbacks: the scheduler marks it success without starting a process.
    is_empty: bool = False
    has_on_failure_callback: bool = False
    has_on_success_callback: bool = False
    has_on_retry_callback: bool = False
    #: Setup and teardown tasks (Airflow's meaning); a teardown's failure fails the run only with
    #: ``on_failure_fail_dagrun``.
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False
    #: What the UI shows in place of the task id (None: the id).
    task_display_name: str | None = None
    #: Extra link name -> the XCom key the runner stores its URL under (operator and plugin links).
    extra_links: dict[str, str] = Field(default_factory=dict)

    @property
    def is_mapped(self) -> bool:
        """Whether the task runs once per map index: mapped itself, or inside a mapped task group."""
        return self.expand is not None or self.mapped_group is not None

    @property
    def display_name(self) -> str:
        return self.task_display_name or self.task_id


class SerializedParam(BaseModel):
    default: Any = None
    has_default: bool = True
    description: str | None = None
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")

    model_config = ConfigDict(populate_by_name=True)


class SerializedTaskGroup(BaseModel):
    group_id: str
    parent: str | None = None
    tooltip: str = ""
    children: list[str] = Field(default_factory=list)  # task ids and group ids directly inside
    #: A mapped task group (``@task_group`` ``.expand()``): what it expands over, as ``SerializedTask.expand``.
    expand: dict[str, MappedArg] | None = None
    expand_kwargs: bool = False


class SerializedDag(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: int = SERIALIZATION_VERSION
    dag_id: str
    fileloc: str
    relative_fileloc: str = ""
    description: str | None = None
    doc_md: str | None = None
    tags: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    #: Timetable as ``tradewind.sdk.schedules.timetable_to_dict`` writes it.
    timetable: dict[str, Any] = Field(default_factory=lambda: {"type": "none"})
    schedule_description: str | None = None
    timezone: str = "UTC"
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = False
    max_active_runs: int = 16
    max_active_tasks: int = 16
    dagrun_timeout: float | None = None  # seconds
    is_paused_upon_creation: bool | None = None
    params: dict[str, SerializedParam] = Field(default_factory=dict)
    render_template_as_native_obj: bool = False
    tasks: list[SerializedTask] = Field(default_factory=list)  # topological order
    task_groups: dict[str, SerializedTaskGroup] = Field(default_factory=dict)
    has_on_failure_callback: bool = False
    has_on_success_callback: bool = False
    #: What the UI shows in place of the DAG id (None: the id).
    dag_display_name: str | None = None
    #: upstream task id -> downstream task id -> edge info, e.g. ``{"label": "on success"}``.
    edge_info: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)

    @cached_property
    def task_dict(self) -> dict[str, SerializedTask]:
        return {t.task_id: t for t in self.tasks}

    @property
    def display_name(self) -> str:
        return self.dag_display_name or self.dag_id

    @cached_property
    def setup_teardown(self) -> SetupTeardownIndex:
        """Setup/teardown relations (which setups a task waits for, a teardown's scope ...), kept."""
        return SetupTeardownIndex(self)

    def edge_label(self, upstream_task_id: str, downstream_task_id: str) -> str | None:
        return self.edge_info.get(upstream_task_id, {}).get(downstream_task_id, {}).get("label")

    def get_task(self, task_id: str) -> SerializedTask:
        return self.task_dict[task_id]

    def roots(self) -> list[SerializedTask]:
        return [t for t in self.tasks if not t.upstream]

    def leaves(self) -> list[SerializedTask]:
        return [t for t in self.tasks if not t.downstream]

    def descendants(self, task_id: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.task_dict[task_id].downstream)
        while stack:
            tid = stack.pop()
            if tid not in seen:
                seen.add(tid)
                stack.extend(self.task_dict[tid].downstream)
        return seen

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> SerializedDag:
        return cls.model_validate_json(data)

    def content_hash(self) -> str:
        """A stable hash of the DAG's structure, to skip rewriting unchanged DAGs."""
        payload = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()
