"""The agent who took each call: for sticky routing and per-agent history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:57:01.218603
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_call_log_agent_id"), ["agent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_log_agent_id"))
        batch_op.drop_column("agent_id")
