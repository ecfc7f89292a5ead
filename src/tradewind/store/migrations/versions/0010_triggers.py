"""Deferrable operators: the ``trigger`` table and the deferral columns of task instances.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trigger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("classpath", sa.String(length=1000), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("created_date", UTC_DATETIME, nullable=False),
        sa.Column("triggerer_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trigger"),
        # A deleted trigger's id is never handed out again (SQLite reuses the highest rowid otherwise): a
        # triggerer still running the old trigger must not report for a new one under its id.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_trigger_triggerer_id", "trigger", ["triggerer_id"])
    op.add_column("task_instance", sa.Column("trigger_id", sa.Integer(), nullable=True))
    op.add_column("task_instance", sa.Column("trigger_timeout", UTC_DATETIME, nullable=True))
    op.add_column("task_instance", sa.Column("next_method", sa.String(length=1000), nullable=True))
    op.add_column("task_instance", sa.Column("next_kwargs", sa.JSON(), nullable=True))
    op.create_index("ix_task_instance_trigger_id", "task_instance", ["trigger_id"])


def downgrade() -> None:
    op.drop_index("ix_task_instance_trigger_id", table_name="task_instance")
    with op.batch_alter_table("task_instance") as batch:
        batch.drop_column("next_kwargs")
        batch.drop_column("next_method")
        batch.drop_column("trigger_timeout")
        batch.drop_column("trigger_id")
    op.drop_index("ix_trigger_triggerer_id", table_name="trigger")
    op.drop_table("trigger")
