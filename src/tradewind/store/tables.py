"""The metadata schema: SQLAlchemy 2 table definitions. Behaviour lives in the repositories beside this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from tradewind.core.clock import as_utc, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LEN = 250


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class DagModel(Base):
    """One DAG as the scheduler and UI know it: flags and next-run bookkeeping."""

    __tablename__ = "dag"

    dag_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    fileloc: Mapped[str] = mapped_column(String(2000))
    relative_fileloc: Mapped[str] = mapped_column(String(2000), default="")
    is_paused: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: ``dag_display_name`` as authored; None when the DAG has none (the UI shows the id).
    dag_display_name: Mapped[str | None] = mapped_column(String(2000))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    owners: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timetable: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    schedule_description: Mapped[str | None] = mapped_column(String(500))
    max_active_runs: Mapped[int] = mapped_column(Integer, default=16)
    max_active_tasks: Mapped[int] = mapped_column(Integer, default=16)
    #: Logical date and interval of the next scheduled run, and when it may be created.
    next_dagrun: Mapped[datetime | None]
    next_dagrun_data_interval_start: Mapped[datetime | None]
    next_dagrun_data_interval_end: Mapped[datetime | None]
    next_dagrun_create_after: Mapped[datetime | None]
    last_parsed_time: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_dag_next_dagrun_create_after", "is_paused", "is_active", "next_dagrun_create_after"),
    )


class DagTagModel(Base):
    """One tag of one DAG, so filtering DAGs by tag is a join on every backend (mirrors ``DagModel.tags``)."""

    __tablename__ = "dag_tag"

    dag_id: Mapped[str] = mapped_column(ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_dag_tag_name", "name"),)


class SerializedDagModel(Base):
    __tablename__ = "serialized_dag"

    dag_id: Mapped[str] = mapped_column(ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # SerializedDag JSON
    dag_hash: Mapped[str] = mapped_column(String(64))
    last_updated: Mapped[datetime] = mapped_column(default=utcnow)


class DagFile(Base):
    """A parsed file of the DAG folder: what it held, when it was parsed, its source."""

    __tablename__ = "dag_file"

    fileloc: Mapped[str] = mapped_column(String(2000), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    mtime: Mapped[float] = mapped_column(Float, default=0.0)
    dag_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    last_parsed_at: Mapped[datetime] = mapped_column(default=utcnow)
    parse_duration: Mapped[float] = mapped_column(Float, default=0.0)


class ImportErrorModel(Base):
    __tablename__ = "import_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(2000), unique=True)
    lineno: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    stacktrace: Mapped[str] = mapped_column(Text, default="")
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)


class DagRunModel(Base):
    __tablename__ = "dag_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    logical_date: Mapped[datetime]
    data_interval_start: Mapped[datetime | None]
    data_interval_end: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    conf: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    external_trigger: Mapped[bool] = mapped_column(Boolean, default=False)
    triggered_by: Mapped[str | None] = mapped_column(String(ID_LEN))
    dag_hash: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    last_scheduling_decision: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("dag_id", "run_id"),
        Index("ix_dag_run_dag_id_state", "dag_id", "state"),
        Index("ix_dag_run_state", "state"),
        Index("ix_dag_run_dag_id_logical_date", "dag_id", "logical_date"),
    )


class TaskInstanceModel(Base):
    __tablename__ = "task_instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    task_id: Mapped[str] = mapped_column(String(ID_LEN))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    state: Mapped[str | None] = mapped_column(String(20))
    try_number: Mapped[int] = mapped_column(Integer, default=0)
    max_tries: Mapped[int] = mapped_column(Integer, default=0)
    operator: Mapped[str | None] = mapped_column(String(200))
    pool: Mapped[str] = mapped_column(String(256), default="default_pool")
    pool_slots: Mapped[int] = mapped_column(Integer, default=1)
    queue: Mapped[str] = mapped_column(String(256), default="default")
    priority_weight: Mapped[int] = mapped_column(Integer, default=1)
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    duration: Mapped[float | None] = mapped_column(Float)
    scheduled_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    #: When an up_for_retry try may be scheduled again.
    next_retry_at: Mapped[datetime | None]
    #: When an up_for_reschedule sensor pokes again; kept until the try is queued (its try number stays).
    next_poke_at: Mapped[datetime | None]
    hostname: Mapped[str | None] = mapped_column(String(1000))
    pid: Mapped[int | None] = mapped_column(Integer)
    executor: Mapped[str | None] = mapped_column(String(50))
    #: Executor-specific handle: pod name, Celery task id, process id.
    external_executor_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    #: The scheduler job that queued this try (adoption after restarts).
    queued_by_job_id: Mapped[int | None] = mapped_column(Integer)
    last_heartbeat_at: Mapped[datetime | None]
    #: Why compute failed or waits (exit code, OOMKilled, ImagePullBackOff, Unschedulable ...).
    state_reason: Mapped[str | None] = mapped_column(Text)
    rendered_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    #: The trigger a deferred try waits on (cleared when it fires, times out or fails).
    trigger_id: Mapped[int | None] = mapped_column(Integer)
    #: When a deferred try stops waiting and fails (``defer(timeout=...)``).
    trigger_timeout: Mapped[datetime | None]
    #: The method a deferred try resumes in ("__fail__": fail with ``next_kwargs["error"]``) and its keyword
    #: arguments (encoded by ``core.json_values``), the trigger's event under "event". Set while the try is
    #: deferred and until it ends: the try number stays when it is queued again.
    next_method: Mapped[str | None] = mapped_column(String(1000))
    next_kwargs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("dag_id", "run_id", "task_id", "map_index"),
        Index("ix_task_instance_state", "state"),
        Index("ix_task_instance_trigger_id", "trigger_id"),
        Index("ix_task_instance_dag_id_run_id", "dag_id", "run_id"),
        Index("ix_task_instance_dag_id_task_id", "dag_id", "task_id"),
    )


class TaskInstanceHistoryModel(Base):
    """One row per finished earlier try, so every try stays inspectable after retries and clears."""

    __tablename__ = "task_instance_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    task_id: Mapped[str] = mapped_column(String(ID_LEN))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    try_number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(20))
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    duration: Mapped[float | None] = mapped_column(Float)
    hostname: Mapped[str | None] = mapped_column(String(1000))
    executor: Mapped[str | None] = mapped_column(String(50))
    external_executor_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    state_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Named explicitly: the convention's name exceeds PostgreSQL's 63-character identifier limit.
        UniqueConstraint(
            "dag_id", "run_id", "task_id", "map_index", "try_number", name="uq_task_instance_history_try"
        ),
    )


class TaskRescheduleModel(Base):
    """One row per poke of a sensor in reschedule mode that found its condition false: when that stretch
    of the try ran and when it pokes again (the first row of a try is when its timeout started)."""

    __tablename__ = "task_reschedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    task_id: Mapped[str] = mapped_column(String(ID_LEN))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    try_number: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[datetime]
    end_date: Mapped[datetime]
    duration: Mapped[float] = mapped_column(Float)
    reschedule_date: Mapped[datetime]

    __table_args__ = (
        Index("ix_task_reschedule_ti_try", "dag_id", "run_id", "task_id", "map_index", "try_number"),
    )


class XComModel(Base):
    __tablename__ = "xcom"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    task_id: Mapped[str] = mapped_column(String(ID_LEN))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    key: Mapped[str] = mapped_column(String(512))
    value: Mapped[str] = mapped_column(Text)  # JSON text
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("dag_id", "run_id", "task_id", "map_index", "key"),)


class VariableModel(Base):
    __tablename__ = "variable"

    key: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    val: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PoolModel(Base):
    __tablename__ = "slot_pool"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class AuditLogModel(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dttm: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(256))
    dag_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    task_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    run_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_log_dttm", "dttm"), Index("ix_audit_log_dag_id", "dag_id"))


class JobModel(Base):
    """A long-running process (scheduler, dag-processor, webserver, worker) and its heartbeat."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_type: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), default="running")
    hostname: Mapped[str | None] = mapped_column(String(1000))
    pid: Mapped[int | None] = mapped_column(Integer)
    executor: Mapped[str | None] = mapped_column(String(50))
    start_date: Mapped[datetime] = mapped_column(default=utcnow)
    end_date: Mapped[datetime | None]
    latest_heartbeat: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_job_type_state_heartbeat", "job_type", "state", "latest_heartbeat"),)


class TriggerModel(Base):
    """A trigger deferred tries wait on, stored serialized (Airflow's ``trigger`` table); ``triggerer_id`` is
    the job id of the triggerer that claimed it (None: unclaimed)."""

    __tablename__ = "trigger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    classpath: Mapped[str] = mapped_column(String(1000))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_date: Mapped[datetime] = mapped_column(default=utcnow)
    triggerer_id: Mapped[int | None] = mapped_column(Integer)

    #: Ids are never reused (see migration 0010): a late report names the trigger it was about.
    __table_args__ = (Index("ix_trigger_triggerer_id", "triggerer_id"), {"sqlite_autoincrement": True})


class UserModel(Base):
    __tablename__ = "tw_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(256), unique=True)
    password_hash: Mapped[str] = mapped_column(String(512))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login: Mapped[datetime | None]
    #: The IANA zone this user picked for the UI's times; None follows [webserver] default_ui_timezone.
    ui_timezone: Mapped[str | None] = mapped_column(String(64))


class ApiTokenModel(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("tw_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebSessionModel(Base):
    """One logged-in browser: the cookie carries the session key, this row only its hash. Logging out deletes
    the row, so the cookie (and any copy of it) stops working at once."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("tw_user.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(100), default="")


class LoginFailureModel(Base):
    """A failed login, kept for the rate-limit window: every webserver process and replica counts the same
    failures."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(256))
    address: Mapped[str] = mapped_column(String(100))
    failed_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_login_failure_username_address", "username", "address"),
        Index("ix_login_failure_failed_at", "failed_at"),
    )


class DagCallbackRequestModel(Base):
    """A DAG-level callback (on_success_callback / on_failure_callback) the scheduler asked for when a run
    finished; the DAG processor runs it (it may import user code, the scheduler never does) and deletes it."""

    __tablename__ = "dag_callback_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    callback: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a DAG processor took it; a claim older than the callback timeout is taken again.
    claimed_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("dag_id", "run_id", "callback"),)


class TaskStateModel(Base):
    """The task state store: JSON values a task instance keeps under its own keys across its tries (and a
    clear), one namespace per (run, task, map index). Deleted with the DAG."""

    __tablename__ = "task_state_store"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LEN))
    run_id: Mapped[str] = mapped_column(String(ID_LEN))
    task_id: Mapped[str] = mapped_column(String(ID_LEN))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    key: Mapped[str] = mapped_column(String(512))
    value: Mapped[str] = mapped_column(Text)  # JSON text
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the value may be removed by a clean-up; None: never.
    expires_at: Mapped[datetime | None]

    __table_args__ = (
        # Named explicitly: the convention's name exceeds PostgreSQL's 63-character identifier limit.
        UniqueConstraint("dag_id", "run_id", "task_id", "map_index", "key", name="uq_task_state_store_key"),
        Index("ix_task_state_store_expires_at", "expires_at"),
    )


# -- assets ---------------------------------------------------------------------------------------------
#: Longest asset name, uri, group or alias name (Airflow's limit).
ASSET_ID_LEN = 1500


class AssetModel(Base):
    """An asset known from a DAG (schedule, inlet or outlet) or from an event; identified by name and uri."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(ASSET_ID_LEN))
    uri: Mapped[str] = mapped_column(String(ASSET_ID_LEN))
    group: Mapped[str] = mapped_column(String(ASSET_ID_LEN), default="asset")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("name", "uri"), Index("ix_asset_uri", "uri"))


class AssetWatcherModel(Base):
    """An asset watcher: the trigger (a row of ``trigger``) the triggerer runs for an asset, named as the DAG
    file names it. Kept while an active DAG is scheduled on the asset with this watcher."""

    __tablename__ = "asset_watcher"

    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)
    trigger_id: Mapped[int] = mapped_column(ForeignKey("trigger.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(ASSET_ID_LEN))

    __table_args__ = (Index("ix_asset_watcher_trigger_id", "trigger_id"),)


class AssetAliasModel(Base):
    """An asset alias: a name outlet events attach to assets at run time."""

    __tablename__ = "asset_alias"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(ASSET_ID_LEN), unique=True)
    group: Mapped[str] = mapped_column(String(ASSET_ID_LEN), default="asset")


class AssetAliasAssetModel(Base):
    """Which assets an alias has resolved to (an event was added to the asset through the alias)."""

    __tablename__ = "asset_alias_asset"

    alias_id: Mapped[int] = mapped_column(ForeignKey("asset_alias.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)


class AssetEventModel(Base):
    """One update of an asset: from a task try's success (source task and run) or from the API."""

    __tablename__ = "asset_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_dag_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    source_task_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    source_run_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    source_map_index: Mapped[int] = mapped_column(Integer, default=-1)
    #: The alias the event was added through, if any.
    source_alias_name: Mapped[str | None] = mapped_column(String(ASSET_ID_LEN))
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_asset_event_asset_id_timestamp", "asset_id", "timestamp"),
        Index("ix_asset_event_timestamp", "timestamp"),
    )


class DagScheduleAssetModel(Base):
    """A DAG scheduled on an asset (one row per asset named in its schedule condition)."""

    __tablename__ = "dag_schedule_asset"

    dag_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_dag_schedule_asset_asset_id", "asset_id"),)


class DagScheduleAssetAliasModel(Base):
    """A DAG scheduled on an asset alias (it runs on events of the assets the alias resolved to)."""

    __tablename__ = "dag_schedule_asset_alias"

    dag_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    alias_id: Mapped[int] = mapped_column(ForeignKey("asset_alias.id", ondelete="CASCADE"), primary_key=True)


class TaskOutletAssetModel(Base):
    """A task that produces an asset (its outlets), for lineage."""

    __tablename__ = "task_outlet_asset"

    dag_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)


class AssetDagRunQueueModel(Base):
    """An asset event a consuming DAG has not consumed yet; a run created for the DAG takes its rows."""

    __tablename__ = "asset_dag_run_queue"

    target_dag_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("asset_event.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DagRunAssetEventModel(Base):
    """The asset events a run consumed (what triggered it)."""

    __tablename__ = "dag_run_asset_event"

    dag_run_id: Mapped[int] = mapped_column(ForeignKey("dag_run.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("asset_event.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_dag_run_asset_event_event_id", "event_id"),)


class AssetStateModel(Base):
    """The asset state store: JSON values kept on an asset under keys (``asset_state_store`` in tasks)."""

    __tablename__ = "asset_state_store"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(512))
    value: Mapped[str] = mapped_column(Text)  # JSON text
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("asset_id", "key"),)


class ConnectionModel(Base):
    """A connection, with Airflow's columns. ``password`` and ``extra`` hold Fernet tokens (see
    ``store.field_cipher``); the ``is_*encrypted`` flags say so, as in Airflow."""

    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conn_id: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    conn_type: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(500))
    schema: Mapped[str | None] = mapped_column(String(500))
    login: Mapped[str | None] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(Text)
    port: Mapped[int | None] = mapped_column(Integer)
    is_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_extra_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[str | None] = mapped_column(Text)
