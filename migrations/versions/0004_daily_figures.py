"""Daily figures (the live figures' history) and callbacks by creation time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "offered", "answered", "answered_within_sl", "abandoned", "abandoned_after_sl",
    "short_abandons", "handled", "missed_offers",
)  # fmt: skip
_SECONDS = (
    "wait_answered_seconds", "longest_wait_seconds", "talk_seconds", "wrap_up_seconds",
    "available_seconds", "busy_seconds", "wrap_up_state_seconds",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "daily_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        *(sa.Column(name, sa.Float(), nullable=False) for name in _SECONDS),
        sa.Column("updated_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "queue"),
    )
    with op.batch_alter_table("daily_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_figures_day"), ["day"], unique=False)
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_created_at"))
    with op.batch_alter_table("daily_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_figures_day"))
    op.drop_table("daily_figures")
