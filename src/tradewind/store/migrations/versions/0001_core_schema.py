"""Core schema: DAGs, files, import errors, runs, task instances, XCom, variables, pools, audit log, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("dttm", UTC_DATETIME, nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=256), nullable=True),
        sa.Column("dag_id", sa.String(length=250), nullable=True),
        sa.Column("task_id", sa.String(length=250), nullable=True),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_dttm", "audit_log", ["dttm"], unique=False)
    op.create_table(
        "dag",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("fileloc", sa.String(length=2000), nullable=False),
        sa.Column("relative_fileloc", sa.String(length=2000), nullable=False),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("timetable", sa.JSON(), nullable=False),
        sa.Column("schedule_description", sa.String(length=500), nullable=True),
        sa.Column("max_active_runs", sa.Integer(), nullable=False),
        sa.Column("max_active_tasks", sa.Integer(), nullable=False),
        sa.Column("next_dagrun", UTC_DATETIME, nullable=True),
        sa.Column("next_dagrun_data_interval_start", UTC_DATETIME, nullable=True),
        sa.Column("next_dagrun_data_interval_end", UTC_DATETIME, nullable=True),
        sa.Column("next_dagrun_create_after", UTC_DATETIME, nullable=True),
        sa.Column("last_parsed_time", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("dag_id", name=op.f("pk_dag")),
    )
    op.create_index(
        "ix_dag_next_dagrun_create_after",
        "dag",
        ["is_paused", "is_active", "next_dagrun_create_after"],
        unique=False,
    )
    op.create_table(
        "dag_file",
        sa.Column("fileloc", sa.String(length=2000), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=False),
        sa.Column("dag_ids", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("last_parsed_at", UTC_DATETIME, nullable=False),
        sa.Column("parse_duration", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("fileloc", name=op.f("pk_dag_file")),
    )
    op.create_table(
        "dag_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("run_type", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("logical_date", UTC_DATETIME, nullable=False),
        sa.Column("data_interval_start", UTC_DATETIME, nullable=True),
        sa.Column("data_interval_end", UTC_DATETIME, nullable=True),
        sa.Column("queued_at", UTC_DATETIME, nullable=True),
        sa.Column("start_date", UTC_DATETIME, nullable=True),
        sa.Column("end_date", UTC_DATETIME, nullable=True),
        sa.Column("conf", sa.JSON(), nullable=False),
        sa.Column("external_trigger", sa.Boolean(), nullable=False),
        sa.Column("triggered_by", sa.String(length=250), nullable=True),
        sa.Column("dag_hash", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("last_scheduling_decision", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dag_run")),
        sa.UniqueConstraint("dag_id", "run_id", name=op.f("uq_dag_run_dag_id_run_id")),
    )
    op.create_index("ix_dag_run_dag_id_logical_date", "dag_run", ["dag_id", "logical_date"], unique=False)
    op.create_index("ix_dag_run_dag_id_state", "dag_run", ["dag_id", "state"], unique=False)
    op.create_index("ix_dag_run_state", "dag_run", ["state"], unique=False)
    op.create_table(
        "import_error",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.String(length=2000), nullable=False),
        sa.Column("lineno", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("stacktrace", sa.Text(), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_error")),
        sa.UniqueConstraint("filename", name=op.f("uq_import_error_filename")),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_type", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("hostname", sa.String(length=1000), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("executor", sa.String(length=50), nullable=True),
        sa.Column("start_date", UTC_DATETIME, nullable=False),
        sa.Column("end_date", UTC_DATETIME, nullable=True),
        sa.Column("latest_heartbeat", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index(
        "ix_job_type_state_heartbeat", "job", ["job_type", "state", "latest_heartbeat"], unique=False
    )
    op.create_table(
        "slot_pool",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_slot_pool")),
    )
    op.create_table(
        "task_instance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=True),
        sa.Column("pool", sa.String(length=256), nullable=False),
        sa.Column("pool_slots", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=256), nullable=False),
        sa.Column("priority_weight", sa.Integer(), nullable=False),
        sa.Column("start_date", UTC_DATETIME, nullable=True),
        sa.Column("end_date", UTC_DATETIME, nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("scheduled_at", UTC_DATETIME, nullable=True),
        sa.Column("queued_at", UTC_DATETIME, nullable=True),
        sa.Column("next_retry_at", UTC_DATETIME, nullable=True),
        sa.Column("hostname", sa.String(length=1000), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("executor", sa.String(length=50), nullable=True),
        sa.Column("external_executor_id", sa.String(length=250), nullable=True),
        sa.Column("queued_by_job_id", sa.Integer(), nullable=True),
        sa.Column("last_heartbeat_at", UTC_DATETIME, nullable=True),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("rendered_fields", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_instance")),
        sa.UniqueConstraint(
            "dag_id",
            "run_id",
            "task_id",
            "map_index",
            name=op.f("uq_task_instance_dag_id_run_id_task_id_map_index"),
        ),
    )
    op.create_index("ix_task_instance_dag_id_run_id", "task_instance", ["dag_id", "run_id"], unique=False)
    op.create_index("ix_task_instance_dag_id_task_id", "task_instance", ["dag_id", "task_id"], unique=False)
    op.create_index("ix_task_instance_state", "task_instance", ["state"], unique=False)
    op.create_table(
        "variable",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("val", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_variable")),
    )
    op.create_table(
        "xcom",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xcom")),
        sa.UniqueConstraint(
            "dag_id",
            "run_id",
            "task_id",
            "map_index",
            "key",
            name=op.f("uq_xcom_dag_id_run_id_task_id_map_index_key"),
        ),
    )
    op.create_table(
        "serialized_dag",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("dag_hash", sa.String(length=64), nullable=False),
        sa.Column("last_updated", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"], ["dag.dag_id"], name=op.f("fk_serialized_dag_dag_id_dag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dag_id", name=op.f("pk_serialized_dag")),
    )


def downgrade() -> None:
    for table in (
        "serialized_dag",
        "xcom",
        "variable",
        "task_instance",
        "slot_pool",
        "job",
        "import_error",
        "dag_run",
        "dag_file",
        "dag",
        "audit_log",
    ):
        op.drop_table(table)
