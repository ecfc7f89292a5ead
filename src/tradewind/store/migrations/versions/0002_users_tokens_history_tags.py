"""Users and API tokens, task-instance try history, DAG tags as rows (filled from dag.tags).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "task_instance_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("start_date", UTC_DATETIME, nullable=True),
        sa.Column("end_date", UTC_DATETIME, nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("hostname", sa.String(length=1000), nullable=True),
        sa.Column("executor", sa.String(length=50), nullable=True),
        sa.Column("external_executor_id", sa.String(length=250), nullable=True),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_instance_history")),
        sa.UniqueConstraint(
            "dag_id", "run_id", "task_id", "map_index", "try_number", name="uq_task_instance_history_try"
        ),
    )
    op.create_table(
        "tw_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("password_hash", sa.String(length=512), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_login", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_user")),
        sa.UniqueConstraint("username", name=op.f("uq_tw_user_username")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("last_used_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["tw_user.id"], name=op.f("fk_api_token_user_id_tw_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    dag_tag = op.create_table(
        "dag_tag",
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"], ["dag.dag_id"], name=op.f("fk_dag_tag_dag_id_dag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dag_id", "name", name=op.f("pk_dag_tag")),
    )
    op.create_index("ix_dag_tag_name", "dag_tag", ["name"], unique=False)
    op.create_index("ix_audit_log_dag_id", "audit_log", ["dag_id"], unique=False)
    _fill_dag_tags(dag_tag)


def _fill_dag_tags(dag_tag: sa.Table | None) -> None:
    """Copy the tags each DAG carries in its JSON column into dag_tag rows."""
    assert dag_tag is not None
    dag = sa.table("dag", sa.column("dag_id", sa.String), sa.column("tags", sa.JSON))
    bind = op.get_bind()
    rows = []
    for dag_id, tags in bind.execute(sa.select(dag.c.dag_id, dag.c.tags)):
        names = json.loads(tags) if isinstance(tags, str) else tags
        rows.extend({"dag_id": dag_id, "name": str(name)[:100]} for name in dict.fromkeys(names or []))
    if rows:
        op.bulk_insert(dag_tag, rows)


def downgrade() -> None:
    op.drop_index("ix_audit_log_dag_id", table_name="audit_log")
    op.drop_index("ix_dag_tag_name", table_name="dag_tag")
    for table in ("dag_tag", "api_token", "tw_user", "task_instance_history"):
        op.drop_table(table)
