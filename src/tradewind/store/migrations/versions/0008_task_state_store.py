"""The task state store: key-value state a task keeps across its tries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_state_store",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_state_store")),
        sa.UniqueConstraint(
            "dag_id", "run_id", "task_id", "map_index", "key", name="uq_task_state_store_key"
        ),
    )
    op.create_index("ix_task_state_store_expires_at", "task_state_store", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_task_state_store_expires_at", table_name="task_state_store")
    op.drop_table("task_state_store")
