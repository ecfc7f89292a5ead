"""Assets: assets, aliases, asset events, the DAGs scheduled on them, and the asset state store.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ASSET_ID_LEN = 1500
ID_LEN = 250


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.partition(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=ASSET_ID_LEN), nullable=False),
        sa.Column("uri", sa.String(length=ASSET_ID_LEN), nullable=False),
        sa.Column("group", sa.String(length=ASSET_ID_LEN), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
        sa.UniqueConstraint("name", "uri", name=op.f("uq_asset_name_uri")),
    )
    op.create_index("ix_asset_uri", "asset", ["uri"], unique=False)
    op.create_table(
        "asset_alias",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=ASSET_ID_LEN), nullable=False),
        sa.Column("group", sa.String(length=ASSET_ID_LEN), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_alias")),
        sa.UniqueConstraint("name", name=op.f("uq_asset_alias_name")),
    )
    op.create_table(
        "asset_alias_asset",
        sa.Column("alias_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        _fk("asset_alias_asset", "alias_id", "asset_alias.id"),
        _fk("asset_alias_asset", "asset_id", "asset.id"),
        sa.PrimaryKeyConstraint("alias_id", "asset_id", name=op.f("pk_asset_alias_asset")),
    )
    op.create_table(
        "asset_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("source_dag_id", sa.String(length=ID_LEN), nullable=True),
        sa.Column("source_task_id", sa.String(length=ID_LEN), nullable=True),
        sa.Column("source_run_id", sa.String(length=ID_LEN), nullable=True),
        sa.Column("source_map_index", sa.Integer(), nullable=False),
        sa.Column("source_alias_name", sa.String(length=ASSET_ID_LEN), nullable=True),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        _fk("asset_event", "asset_id", "asset.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_event")),
    )
    op.create_index(
        "ix_asset_event_asset_id_timestamp", "asset_event", ["asset_id", "timestamp"], unique=False
    )
    op.create_index("ix_asset_event_timestamp", "asset_event", ["timestamp"], unique=False)
    op.create_table(
        "dag_schedule_asset",
        sa.Column("dag_id", sa.String(length=ID_LEN), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        _fk("dag_schedule_asset", "asset_id", "asset.id"),
        sa.PrimaryKeyConstraint("dag_id", "asset_id", name=op.f("pk_dag_schedule_asset")),
    )
    op.create_index("ix_dag_schedule_asset_asset_id", "dag_schedule_asset", ["asset_id"], unique=False)
    op.create_table(
        "dag_schedule_asset_alias",
        sa.Column("dag_id", sa.String(length=ID_LEN), nullable=False),
        sa.Column("alias_id", sa.Integer(), nullable=False),
        _fk("dag_schedule_asset_alias", "alias_id", "asset_alias.id"),
        sa.PrimaryKeyConstraint("dag_id", "alias_id", name=op.f("pk_dag_schedule_asset_alias")),
    )
    op.create_table(
        "task_outlet_asset",
        sa.Column("dag_id", sa.String(length=ID_LEN), nullable=False),
        sa.Column("task_id", sa.String(length=ID_LEN), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        _fk("task_outlet_asset", "asset_id", "asset.id"),
        sa.PrimaryKeyConstraint("dag_id", "task_id", "asset_id", name=op.f("pk_task_outlet_asset")),
    )
    op.create_table(
        "asset_dag_run_queue",
        sa.Column("target_dag_id", sa.String(length=ID_LEN), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("asset_dag_run_queue", "event_id", "asset_event.id"),
        sa.PrimaryKeyConstraint("target_dag_id", "event_id", name=op.f("pk_asset_dag_run_queue")),
    )
    op.create_table(
        "dag_run_asset_event",
        sa.Column("dag_run_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        _fk("dag_run_asset_event", "dag_run_id", "dag_run.id"),
        _fk("dag_run_asset_event", "event_id", "asset_event.id"),
        sa.PrimaryKeyConstraint("dag_run_id", "event_id", name=op.f("pk_dag_run_asset_event")),
    )
    op.create_index("ix_dag_run_asset_event_event_id", "dag_run_asset_event", ["event_id"], unique=False)
    op.create_table(
        "asset_state_store",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _fk("asset_state_store", "asset_id", "asset.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_state_store")),
        sa.UniqueConstraint("asset_id", "key", name=op.f("uq_asset_state_store_asset_id_key")),
    )


def downgrade() -> None:
    op.drop_table("asset_state_store")
    op.drop_index("ix_dag_run_asset_event_event_id", table_name="dag_run_asset_event")
    op.drop_table("dag_run_asset_event")
    op.drop_table("asset_dag_run_queue")
    op.drop_table("task_outlet_asset")
    op.drop_table("dag_schedule_asset_alias")
    op.drop_index("ix_dag_schedule_asset_asset_id", table_name="dag_schedule_asset")
    op.drop_table("dag_schedule_asset")
    op.drop_index("ix_asset_event_timestamp", table_name="asset_event")
    op.drop_index("ix_asset_event_asset_id_timestamp", table_name="asset_event")
    op.drop_table("asset_event")
    op.drop_table("asset_alias_asset")
    op.drop_table("asset_alias")
    op.drop_index("ix_asset_uri", table_name="asset")
    op.drop_table("asset")
