"""Callbacks placed as outbound calls: attempts, the call, its outcome.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMES = ("claimed_at", "placed_at", "answered_at", "finished_at")
_INDEXED = ("placed_at", "answered_at", "finished_at")


def upgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        for name in _TIMES:
            batch_op.add_column(
                sa.Column(name, hotline.db_types.UTCDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(
            sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_result", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        for name in _INDEXED:
            batch_op.create_index(batch_op.f(f"ix_callback_{name}"), [name], unique=False)
    # Callbacks owed before this revision were "due"; the state machine calls that "scheduled".
    op.execute("UPDATE callback SET status = 'scheduled' WHERE status = 'due'")


def downgrade() -> None:
    op.execute("UPDATE callback SET status = 'due' WHERE status = 'scheduled'")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        for name in _INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_callback_{name}"))
        for name in ("last_result", "outcome", *reversed(_TIMES), "call_sid", "attempts"):
            batch_op.drop_column(name)
