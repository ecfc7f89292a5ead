"""Each user's time zone for the UI (``tw_user.ui_timezone``); empty follows [webserver] default_ui_timezone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tw_user", sa.Column("ui_timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tw_user") as batch:
        batch.drop_column("ui_timezone")
