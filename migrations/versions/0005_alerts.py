"""Alerts for supervisors (service level, long waits, queues nobody can answer).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("raised_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("message_zh", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("message_en", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_cleared_at"), ["cleared_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_acknowledged_at"), ["acknowledged_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_acknowledged_at"))
        batch_op.drop_index(batch_op.f("ix_alert_cleared_at"))
        batch_op.drop_index(batch_op.f("ix_alert_raised_at"))
    op.drop_table("alert")
