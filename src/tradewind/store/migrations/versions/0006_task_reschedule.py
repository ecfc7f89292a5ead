"""Sensors in reschedule mode: the reschedules of each try and the next poke time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("task_instance", sa.Column("next_poke_at", UTC_DATETIME, nullable=True))
    op.create_table(
        "task_reschedule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("start_date", UTC_DATETIME, nullable=False),
        sa.Column("end_date", UTC_DATETIME, nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("reschedule_date", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_reschedule"),
    )
    op.create_index(
        "ix_task_reschedule_ti_try",
        "task_reschedule",
        ["dag_id", "run_id", "task_id", "map_index", "try_number"],
    )


def downgrade() -> None:
    op.drop_index("ix_task_reschedule_ti_try", table_name="task_reschedule")
    op.drop_table("task_reschedule")
    with op.batch_alter_table("task_instance") as batch:
        batch.drop_column("next_poke_at")
