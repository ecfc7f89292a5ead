"""The DAG's display name (``dag_display_name``), shown by the UI and the API in place of its id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dag", sa.Column("dag_display_name", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dag") as batch:
        batch.drop_column("dag_display_name")
